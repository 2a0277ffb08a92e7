// Settings of the C library's memory allocator for processes that train
// networks.
#pragma once

namespace nasq::util {

// Makes glibc's malloc keep freed memory for reuse. A training step frees
// and allocates the same activation buffers again and again. By default
// glibc maps buffers of 128 KiB and more, and returns a free heap top of over
// 128 KiB to the system. It raises both thresholds when larger mapped
// buffers are freed (mallopt(3)). The next step then touches fresh pages,
// each with a page fault. After this call buffers up to 32 MiB (glibc's
// largest allowed threshold on 64-bit systems) come from the heap, and up to
// 1 GiB of free heap top stays with the process. bench_supernet measured a
// 3 % higher peak resident memory of a search step with these settings
// (docs/benchmarks.md). Does nothing when GLIBC_TUNABLES sets a glibc.malloc
// tunable or a MALLOC_*_ variable is set, so that a user's settings win, and
// with other C libraries. Returns whether the settings took effect.
bool keep_freed_memory();

}  // namespace nasq::util
