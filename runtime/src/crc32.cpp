#include "crc32.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace plm {
namespace {

struct Table {
  uint32_t t[8][256];
  Table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

uint32_t crc_table(const uint8_t* p, size_t n, uint32_t c) {
  static const Table tab;
  while (n >= 8) {  // slice-by-8
    uint64_t v;
    std::memcpy(&v, p, 8);
    v ^= c;
    c = tab.t[7][v & 0xff] ^ tab.t[6][(v >> 8) & 0xff] ^ tab.t[5][(v >> 16) & 0xff] ^ tab.t[4][(v >> 24) & 0xff] ^
        tab.t[3][(v >> 32) & 0xff] ^ tab.t[2][(v >> 40) & 0xff] ^ tab.t[1][(v >> 48) & 0xff] ^ tab.t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ tab.t[0][(c ^ *p++) & 0xff];
  return c;
}

// The CRC register of `raw` followed by n zero bytes: multiplication by x^(8n)
// modulo the polynomial, as 32x32 GF(2) matrices squared per bit of n. It joins CRCs
// of pieces computed independently (interleaved streams, threads).
uint32_t gf2_times(const uint32_t* m, uint32_t v) {
  uint32_t s = 0;
  for (int i = 0; v; ++i, v >>= 1)
    if (v & 1) s ^= m[i];
  return s;
}

uint32_t shift_zeros(uint32_t raw, uint64_t n) {
  uint32_t odd[32], even[32];
  odd[0] = 0x82F63B78u;  // one zero bit
  for (int i = 1; i < 32; ++i) odd[i] = 1u << (i - 1);
  auto square = [](uint32_t* out, const uint32_t* m) {
    for (int i = 0; i < 32; ++i) out[i] = gf2_times(m, m[i]);
  };
  square(even, odd);  // two zero bits
  square(odd, even);  // four
  do {                // then one zero byte per step, squared per bit of n
    square(even, odd);
    if (n & 1) raw = gf2_times(even, raw);
    n >>= 1;
    if (!n) break;
    square(odd, even);
    if (n & 1) raw = gf2_times(odd, raw);
    n >>= 1;
  } while (n);
  return raw;
}

// The CRC instructions, per ISA: 8 bytes and 1 byte into the register.
#if defined(__x86_64__)
#define PLM_CRC_TARGET __attribute__((target("sse4.2")))
PLM_CRC_TARGET inline uint32_t crc_step8(uint32_t c, uint64_t v) { return uint32_t(_mm_crc32_u64(c, v)); }
PLM_CRC_TARGET inline uint32_t crc_step1(uint32_t c, uint8_t v) { return _mm_crc32_u8(c, v); }
bool have_hw() {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 20));
}
#elif defined(__aarch64__) && defined(__linux__)
#define PLM_CRC_TARGET __attribute__((target("+crc")))
PLM_CRC_TARGET inline uint32_t crc_step8(uint32_t c, uint64_t v) { return __builtin_aarch64_crc32cx(c, v); }
PLM_CRC_TARGET inline uint32_t crc_step1(uint32_t c, uint8_t v) { return __builtin_aarch64_crc32cb(c, v); }
bool have_hw() { return (getauxval(AT_HWCAP) & (1ul << 7)) != 0; }  // HWCAP_CRC32
#endif

#if defined(PLM_CRC_TARGET)
PLM_CRC_TARGET uint32_t crc_hw(const uint8_t* p, size_t n, uint32_t c) {
  // Three independent streams hide the instruction's 3-cycle latency.
  if (n >= 3 * 4096) {
    const size_t len = n / 3 / 8 * 8;
    uint32_t a = c, b = 0, d = 0;
    const uint8_t *pa = p, *pb = p + len, *pd = p + 2 * len;
    for (size_t i = 0; i < len; i += 8) {
      uint64_t va, vb, vd;
      std::memcpy(&va, pa + i, 8);
      std::memcpy(&vb, pb + i, 8);
      std::memcpy(&vd, pd + i, 8);
      a = crc_step8(a, va);
      b = crc_step8(b, vb);
      d = crc_step8(d, vd);
    }
    c = shift_zeros(shift_zeros(a, len) ^ b, len) ^ d;
    p += 3 * len;
    n -= 3 * len;
  }
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = crc_step8(c, v);
  }
  while (n--) c = crc_step1(c, *p++);
  return c;
}
#else
uint32_t crc_hw(const uint8_t* p, size_t n, uint32_t c) { return crc_table(p, n, c); }
bool have_hw() { return false; }
#endif

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  static const bool hw = have_hw();
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t c = ~crc;
  return ~(hw ? crc_hw(p, n, c) : crc_table(p, n, c));
}

uint32_t crc32c_parallel(const void* data, size_t n, int threads, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  const size_t min_piece = size_t(8) << 20;  // threads pay off from a few MB
  threads = int(std::max<size_t>(1, std::min<size_t>(size_t(std::max(threads, 1)), n / min_piece)));
  if (threads == 1) return crc32c(p, n, crc);
  static const bool hw = have_hw();
  const size_t piece = n / size_t(threads);
  std::vector<uint32_t> raw(static_cast<size_t>(threads));
  auto work = [&](int i) {
    const size_t off = size_t(i) * piece, len = i + 1 == threads ? n - off : piece;
    const uint32_t init = i == 0 ? ~crc : 0u;
    raw[size_t(i)] = hw ? crc_hw(p + off, len, init) : crc_table(p + off, len, init);
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(work, i);
  work(0);
  for (auto& t : pool) t.join();
  uint32_t c = raw[0];
  for (int i = 1; i < threads; ++i) {
    const size_t len = i + 1 == threads ? n - size_t(i) * piece : piece;
    c = shift_zeros(c, len) ^ raw[size_t(i)];
  }
  return ~c;
}

uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc) {
  return ~crc_table(static_cast<const uint8_t*>(data), n, ~crc);
}

}  // namespace plm
