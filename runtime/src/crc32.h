// CRC-32C (Castagnoli), the bundle's section checksum: hardware instructions where
// the CPU has them (SSE 4.2 crc32, ARMv8 CRC32), a table otherwise.
#pragma once
#include <cstddef>
#include <cstdint>

namespace plm {

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
// The same checksum of a large buffer, split across up to `threads` threads.
uint32_t crc32c_parallel(const void* data, size_t n, int threads, uint32_t crc = 0);
// The table implementation alone (what CPUs without CRC instructions run).
uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc = 0);

}  // namespace plm
