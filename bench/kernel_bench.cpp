// pocketlm-kernel-bench: matmul kernels at real shapes, reported against this
// machine's limits measured in the same run (read bandwidth, int8 dot peak).
//   build/bin/pocketlm-kernel-bench --benchmark_filter=...
// Counters: GB/s of weights streamed, fraction of read bandwidth (GEMV), GOP/s and
// fraction of the int8 peak (GEMM). The machine is shared and noisy: compare ratios.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_kernels.h"
#include "bundle.h"
#include "cpu_features.h"
#include "kernel_buffer.h"
#include "schedule_class.h"
#include "fp16.h"
#include "thread_pool.h"

namespace {

using plm::KernelBuffer;

constexpr size_t kStreamBytes = size_t(1) << 30;  // > the 480 MB L3 of the dev machine



void* alloc_pages(size_t n) {
  void* p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096);
  std::memset(p, 1, n);  // touch: real pages, not the shared zero page
  return p;
}

const char* best_class() {
  const auto& f = plm::host_cpu_features();
  if (f.avx512_vnni && f.avx512bw && f.avx512vl) return "x86-avx512-vnni";
  if (f.avx2 && f.fma) return "x86-avx2";
  return nullptr;
}

// The schedule class whose kernels and peak probes run: the best this CPU has, or the
// one --class names (to compare classes on one machine).
std::string g_class;

// --- machine limits ---

// Runs body(t) for t in [0, threads) on that many threads at once, and waits: the probes
// ask every core for the same work.
template <typename Body>
void on_threads(int threads, Body body) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back(body, t);
  for (auto& t : ts) t.join();
}

// Both probes prefetch 3 KiB ahead into L2, as the decode kernels do: without it one
// core of the dev machine streams ~10% less, and the kernels measured above 100%.
constexpr size_t kPrefetchAhead = 3072;
// And each thread reads its part as 4 streams taking turns of 512 bytes: one Xeon core
// streamed 14 GB/s against 10.6-11.8 from one sequential stream (the hardware
// prefetcher runs ahead on each stream at once), and llama.cpp's generation measured
// up to 116% of the one-stream figure.
constexpr size_t kStreams = 4, kTurnBytes = 512;

// The bytes each of the kStreams streams of an n-byte part reads: whole turns.
constexpr size_t stream_bytes(size_t n) { return n / kStreams / kTurnBytes * kTurnBytes; }

__attribute__((target("avx2"))) uint64_t sum_range(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  const size_t part = stream_bytes(n);
  for (size_t c = 0; c < part; c += kTurnBytes)
    for (size_t s = 0; s < kStreams; ++s) {
      const uint8_t* q = p + s * part + c;
      for (size_t i = 0; i < kTurnBytes; i += 128) {
        _mm_prefetch(reinterpret_cast<const char*>(q + i + kPrefetchAhead), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(q + i + kPrefetchAhead + 64), _MM_HINT_T1);
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(q + i + 96)));
      }
    }
  __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  uint64_t out[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), s);
  return out[0] + out[1] + out[2] + out[3];
}

__attribute__((target("avx512f"))) uint64_t sum_range_avx512(const uint8_t* p, size_t n) {
  __m512i a[8];
  for (auto& x : a) x = _mm512_setzero_si512();
  const size_t part = stream_bytes(n);
  for (size_t c = 0; c < part; c += kTurnBytes)
    for (size_t s = 0; s < kStreams; ++s) {
      const uint8_t* q = p + s * part + c;
      for (int k = 0; k < 8; ++k) {
        _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetchAhead + 64 * k), _MM_HINT_T1);
        a[k] = _mm512_add_epi64(a[k], _mm512_load_si512(q + 64 * k));
      }
    }
  __m512i s = a[0];
  for (int k = 1; k < 8; ++k) s = _mm512_add_epi64(s, a[k]);
  uint64_t lanes[8];
  _mm512_storeu_si512(lanes, s);
  uint64_t total = 0;
  for (uint64_t v : lanes) total += v;
  return total;
}

// The most a kernel could stream: widest loads the CPU has, 8 independent streams of
// accumulation, software prefetch, every thread reading its own contiguous part as
// kStreams streams.
void BM_ReadBandwidth(benchmark::State& state) {
  const bool avx512 = plm::host_cpu_features().avx512f;
  const int threads = int(state.range(0));
  static uint8_t* buf = static_cast<uint8_t*>(alloc_pages(kStreamBytes));
  const size_t part = kStreamBytes / size_t(threads);
  const size_t read = size_t(threads) * kStreams * stream_bytes(part);
  for (auto _ : state) {
    std::vector<uint64_t> sums(static_cast<size_t>(threads));
    on_threads(threads, [&](int t) {
      const uint8_t* p = buf + size_t(t) * part;
      sums[size_t(t)] = avx512 ? sum_range_avx512(p, part) : sum_range(p, part);
    });
    benchmark::DoNotOptimize(sums);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(read));
  state.counters["GB/s"] = benchmark::Counter(double(read) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t vnni_loop(int64_t iters) {
  __m512i a[8];
  for (auto& x : a) x = _mm512_setzero_si512();
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iters; ++i)
    for (auto& x : a) x = _mm512_dpbusd_epi32(x, u, s);
  __m512i t = a[0];
  for (int k = 1; k < 8; ++k) t = _mm512_add_epi32(t, a[k]);
  int32_t lanes[16];
  _mm512_storeu_si512(lanes, t);
  int64_t total = 0;
  for (int32_t v : lanes) total += v;
  return total;
}

__attribute__((target("avx2"))) int64_t avx2_loop(int64_t iters) {
  __m256i a[8];
  for (auto& x : a) x = _mm256_setzero_si256();
  const __m256i u = _mm256_set1_epi16(3), s = _mm256_set1_epi16(-2);
  for (int64_t i = 0; i < iters; ++i)
    for (auto& x : a) x = _mm256_add_epi32(x, _mm256_madd_epi16(u, s));
  __m256i t = a[0];
  for (int k = 1; k < 8; ++k) t = _mm256_add_epi32(t, a[k]);
  return _mm256_extract_epi32(t, 0);
}

__attribute__((target("avx512f"))) float fma512_loop(int64_t iters) {
  __m512 a[8];
  for (auto& x : a) x = _mm512_setzero_ps();
  const __m512 u = _mm512_set1_ps(0.999f), s = _mm512_set1_ps(1e-3f);
  for (int64_t i = 0; i < iters; ++i)
    for (auto& x : a) x = _mm512_fmadd_ps(x, u, s);
  __m512 t = a[0];
  for (int k = 1; k < 8; ++k) t = _mm512_add_ps(t, a[k]);
  float lanes[16];  // not _mm512_reduce_add_ps: GCC 12's header warns inside it
  _mm512_storeu_ps(lanes, t);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) float fma256_loop(int64_t iters) {
  __m256 a[8];
  for (auto& x : a) x = _mm256_setzero_ps();
  const __m256 u = _mm256_set1_ps(0.999f), s = _mm256_set1_ps(1e-3f);
  for (int64_t i = 0; i < iters; ++i)
    for (auto& x : a) x = _mm256_fmadd_ps(x, u, s);
  float lanes[8];
  __m256 t = a[0];
  for (int k = 1; k < 8; ++k) t = _mm256_add_ps(t, a[k]);
  _mm256_storeu_ps(lanes, t);
  return lanes[0];
}

// f32 FLOP/s of fused multiply-adds at the class's vector width: attention's referee.
void BM_F32FmaPeak(benchmark::State& state) {
  const int threads = int(state.range(0));
  const bool avx512 = g_class == "x86-avx512-vnni";
  const int64_t iters = 1 << 22;
  const double flops_per_iter = 8.0 * (avx512 ? 16 : 8) * 2;
  for (auto _ : state) on_threads(threads, [&](int) { benchmark::DoNotOptimize(avx512 ? fma512_loop(iters) : fma256_loop(iters)); });
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * double(iters) * threads * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(avx512 ? "vfmadd zmm" : "vfmadd ymm");
}

// Multiply-accumulates per second of the class's integer dot instruction, all cores asked for.
void BM_Int8DotPeak(benchmark::State& state) {
  const int threads = int(state.range(0));
  const bool vnni = g_class == "x86-avx512-vnni";
  const int64_t iters = 1 << 22;
  const double ops_per_iter = vnni ? 8.0 * 64 * 2 : 8.0 * 16 * 2;  // MACs x 2 ops
  for (auto _ : state) on_threads(threads, [&](int) { benchmark::DoNotOptimize(vnni ? vnni_loop(iters) : avx2_loop(iters)); });
  state.counters["GOP/s"] = benchmark::Counter(ops_per_iter * double(iters) * threads * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(vnni ? "vpdpbusd zmm" : "vpmaddwd ymm");
}

// --- kernels ---

// A matmul's weights in its layout (docs/weight-layouts.md), `copies` of one tensor back
// to back so that a streamed GEMV reads DRAM: u8 quads with f16 block scales (Q8_0,
// Q4_0), or the K-quants' quants with their scale bytes apart. Random quants; scales
// that keep the sums finite.
struct Weights {
  bool k_quant = false;
  int64_t R, nb, tiles, quant_bytes, scale_bytes, copies;
  uint8_t* quants;
  uint8_t* scales;
};

Weights make_weights(const BenchMatmul& m, bool stream) {
  Weights w;
  const std::string wt = m.wt;
  w.k_quant = wt == "q6_k" || wt == "q4_k";
  w.R = plm::matmul_tile_rows(*plm::schedule_class_from_name(m.cls));
  w.nb = m.k / 32;
  w.tiles = (m.n + w.R - 1) / w.R;
  using F = plm::bundle::WeightFormat;
  const bool known = w.k_quant || wt == "q4_0" || wt == "q8_0";
  const F format = wt == "q6_k" ? F::Q6_K : wt == "q4_k" ? F::Q4_K : wt == "q4_0" ? F::Q4_0 : F::Q8_0;
  plm::TensorSpanSizes bytes;
  if (!known || !plm::expected_span_sizes(format, m.k, m.n, int32_t(w.R), &bytes)) {
    std::fprintf(stderr, "pocketlm-kernel-bench: no weights for %s k%d n%d (q8_0, q4_0, q4_k or q6_k)\n", m.wt, int(m.k), int(m.n));
    std::exit(2);
  }
  w.quant_bytes = int64_t(bytes.quants);
  w.scale_bytes = int64_t(bytes.scales);
  const int64_t one = w.quant_bytes + w.scale_bytes;
  w.copies = stream ? std::max<int64_t>(1, int64_t(kStreamBytes) / one) : 1;
  w.quants = static_cast<uint8_t*>(alloc_pages(size_t(w.quant_bytes * w.copies)));
  w.scales = w.k_quant ? static_cast<uint8_t*>(alloc_pages(size_t(w.scale_bytes * w.copies))) : nullptr;
  std::mt19937 rng(1);
  for (int64_t i = 0; i < w.quant_bytes * w.copies; i += 61) w.quants[i] = uint8_t(rng());
  if (w.k_quant) {
    // d (and dmin) = 0x1111 (5.5e-4), sub-scales (and sub-mins) 17.
    std::memset(w.scales, 0x11, size_t(w.scale_bytes * w.copies));
  } else {
    // Every block's scales (after its quads, weight_bytes.h) 0.01: low bytes, high bytes.
    const uint16_t h = plm::f32_to_fp16(0.01f);
    const bool nibbles = wt == "q4_0";
    const int64_t block = plm::f16_block_bytes(nibbles, int(w.R)), quant = plm::f16_block_quant_bytes(nibbles, int(w.R));
    for (int64_t b = 0; b < w.quant_bytes * w.copies / block; ++b) {
      std::memset(w.quants + b * block + quant, h & 0xff, size_t(w.R));
      std::memset(w.quants + b * block + quant + w.R, h >> 8, size_t(w.R));
    }
  }
  return w;
}

void BM_Matmul(benchmark::State& state, const BenchMatmul* m, int tokens, bool stream) {
  const int threads = int(state.range(0));
  plm::ThreadPool pool(threads);
  plm::ThreadPool::install_for_halide(&pool);
  Weights w = make_weights(*m, stream);
  const int nb = int(w.nb), tiles = int(w.tiles);
  std::vector<int8_t> xq(size_t(m->k) * tokens, 3);
  std::vector<float> xd(size_t(nb) * tokens, 0.02f);
  std::vector<int32_t> xs(size_t(nb) * tokens, 96);
  std::vector<float> out(size_t(m->n) * tokens);
  KernelBuffer bxq(xq.data(), {m->k, tokens}), bxd(xd.data(), {nb, tokens}), bxs(xs.data(), {nb, tokens}),
      bout(out.data(), {m->n, tokens});
  // Every copy's arguments, built before the timed loop: the K-quants' scales are an
  // argument of their own, Q4_0's and Q8_0's are inside w.
  std::vector<std::unique_ptr<KernelBuffer>> buffers;
  std::vector<std::vector<void*>> argvs;
  for (int64_t c = 0; c < w.copies; ++c) {
    std::vector<void*> argv;
    buffers.emplace_back(new KernelBuffer(w.quants + c * w.quant_bytes, {int32_t(w.quant_bytes / tiles), tiles}));
    argv.push_back(buffers.back()->get());
    if (w.k_quant) {
      buffers.emplace_back(new KernelBuffer(w.scales + c * w.scale_bytes, {int32_t(w.scale_bytes / tiles), tiles}));
      argv.push_back(buffers.back()->get());
    }
    for (KernelBuffer* b : {&bxq, &bxd, &bxs, &bout}) argv.push_back(b->get());
    argvs.push_back(std::move(argv));
  }
  int64_t copy = 0;
  for (auto _ : state) {
    if (m->argv_fn(argvs[size_t(copy)].data()) != 0) state.SkipWithError("kernel failed");
    copy = (copy + 1) % w.copies;
  }
  plm::ThreadPool::install_for_halide(nullptr);
  const double bytes = double(w.quant_bytes + w.scale_bytes);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GOP/s"] = benchmark::Counter(2.0 * m->k * m->n * tokens * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(m->cls) + " " + m->form + (stream ? ", weights streamed from DRAM" : ", weights in cache"));
  std::free(w.quants);
  std::free(w.scales);
}

// Attention at a model's shape: `tokens` queries at positions pos0.. over a cache of
// pos0 + tokens positions (f16 or q8_0). FLOPs count the causal scores and the weighted
// sum of values (2 x 2 per head dimension and key); GB/s the cache bytes read once.
void BM_Attention(benchmark::State& state, const BenchAttention* a, int tokens, int pos0) {
  const int threads = int(state.range(0));
  plm::ThreadPool pool(threads);
  plm::ThreadPool::install_for_halide(&pool);
  const bool q8 = std::string(a->kv) == "q8_0";
  const int64_t QW = int64_t(a->heads) * a->head_dim, KW = int64_t(a->kv_heads) * a->head_dim, P = pos0 + tokens;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<float> q(size_t(QW * tokens)), out(size_t(QW * tokens));
  for (auto& x : q) x = normal(rng);
  std::vector<uint16_t> kh(size_t(KW * P)), vh(size_t(KW * P)), kd(size_t(KW / 32 * P), plm::f32_to_fp16(0.01f)), vd(kd);
  std::vector<int8_t> kq(size_t(KW * P)), vq(size_t(KW * P));
  for (size_t i = 0; i < kh.size(); ++i) {
    kh[i] = plm::f32_to_fp16(normal(rng)), vh[i] = plm::f32_to_fp16(normal(rng));
    kq[i] = int8_t(rng() % 255 - 127), vq[i] = int8_t(rng() % 255 - 127);
  }
  KernelBuffer bq(q.data(), {int32_t(QW), tokens}), bout(out.data(), {int32_t(QW), tokens});
  std::vector<std::unique_ptr<KernelBuffer>> cache;
  auto add = [&](const auto* host, int64_t width) { cache.emplace_back(new KernelBuffer(host, {int32_t(width), int32_t(P)})); };
  if (q8) add(kq.data(), KW), add(kd.data(), KW / 32), add(vq.data(), KW), add(vd.data(), KW / 32);
  else add(kh.data(), KW), add(vh.data(), KW);
  int32_t p0 = pos0;
  std::vector<void*> argv = {bq.get()};
  for (auto& c : cache) argv.push_back(c->get());
  argv.push_back(&p0);
  argv.push_back(bout.get());
  for (auto _ : state)
    if (a->argv_fn(argv.data()) != 0) state.SkipWithError("kernel failed");
  plm::ThreadPool::install_for_halide(nullptr);
  double flops = 0;
  for (int t = 0; t < tokens; ++t) flops += 4.0 * double(pos0 + t + 1) * double(QW);
  const double bytes = double(P) * double(2 * KW) * (q8 ? 34.0 / 32.0 : 2.0);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(a->cls) + ", " + a->kv + " cache");
}

// 1 and 2 threads (the phones' big-core counts vary; the dev machine has 2 cores).
void threads(benchmark::internal::Benchmark* b) {
  const int max_threads = std::min(2, int(std::thread::hardware_concurrency()));
  for (int t = 1; t <= max_threads; ++t) b->Arg(t);
  b->ArgName("threads")->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  const char* best = best_class();
  if (!best) {
    std::fprintf(stderr, "pocketlm-kernel-bench: this CPU has neither AVX2+FMA nor AVX-512 VNNI\n");
    return 1;
  }
  g_class = best;
  int kept = 1;  // argv without --class=NAME, for Google Benchmark
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--class=", 0) != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    g_class = a.substr(8);
    if (g_class != "x86-avx512-vnni" && g_class != "x86-avx2") {
      std::fprintf(stderr, "pocketlm-kernel-bench: --class=%s: the bench has kernels for x86-avx512-vnni and x86-avx2\n", g_class.c_str());
      return 1;
    }
    if (g_class == "x86-avx512-vnni" && std::string(best) != g_class) {
      std::fprintf(stderr, "pocketlm-kernel-bench: --class=%s: this CPU lacks AVX-512 VNNI\n", g_class.c_str());
      return 1;
    }
  }
  argv[kept] = nullptr;
  argc = kept;
  const char* cls = g_class.c_str();
  benchmark::RegisterBenchmark("read_bandwidth", BM_ReadBandwidth)->Apply(threads)->MinTime(1.0);
  benchmark::RegisterBenchmark("int8_dot_peak", BM_Int8DotPeak)->Apply(threads);
  benchmark::RegisterBenchmark("f32_fma_peak", BM_F32FmaPeak)->Apply(threads);
  for (const auto& m : kBenchMatmuls) {
    if (std::string(m.cls) != cls) continue;
    const std::string shape = std::string(m.wt) + "/k" + std::to_string(m.k) + "_n" + std::to_string(m.n);
    // gemv: the decode roofline case; gemv_cached separates compute from memory limits;
    // gemv_turns: the same GEMV reading 4 row tiles in turns (SocProfile::decode_streams).
    const std::string form = m.form;
    if (form == "decode") {
      benchmark::RegisterBenchmark(("gemv/" + shape).c_str(), BM_Matmul, &m, 1, true)->Apply(threads);
      benchmark::RegisterBenchmark(("gemv_cached/" + shape).c_str(), BM_Matmul, &m, 1, false)->Apply(threads);
    } else if (form == "decode_turns") {
      benchmark::RegisterBenchmark(("gemv_turns/" + shape).c_str(), BM_Matmul, &m, 1, true)->Apply(threads);
    } else {
      benchmark::RegisterBenchmark(("gemm128/" + shape).c_str(), BM_Matmul, &m, 128, false)->Apply(threads);
    }
  }
  for (const auto& a : kBenchAttentions) {
    if (std::string(a.cls) != cls) continue;
    const std::string shape = std::string(a.kv) + "/h" + std::to_string(a.heads) + "_kv" + std::to_string(a.kv_heads) + "_d" +
                              std::to_string(a.head_dim);
    // Decode one token deep into the context, and the last 64-token chunk of a 512-token
    // prompt: each through the form the runtime calls for it.
    if (std::string(a.form) == "decode") {
      for (int ctx : {512, 2048})
        benchmark::RegisterBenchmark(("attention_decode/" + shape + "/ctx" + std::to_string(ctx)).c_str(), BM_Attention, &a, 1, ctx - 1)
            ->Apply(threads);
    } else {
      benchmark::RegisterBenchmark(("attention_prefill64/" + shape + "/pos448").c_str(), BM_Attention, &a, 64, 448)->Apply(threads);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
