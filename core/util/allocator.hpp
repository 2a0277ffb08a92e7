// Settings of the C library's memory allocator for processes that train
// networks.
#pragma once

namespace nasq::util {

// Makes glibc's malloc keep freed memory for reuse. A training step frees
// and allocates the same activation buffers again and again. By default
// glibc maps buffers of 128 KiB and more (a threshold it raises when larger
// mapped buffers are freed) and returns a free heap top of over 128 KiB to
// the system (mallopt(3)). The next step then touches fresh pages, with one
// page fault per 4 KiB.
// After this call buffers up to 32 MiB (glibc's largest allowed threshold)
// come from the heap, and up to 1 GiB of free heap top stays with the
// process. The peak resident memory does not grow: what is kept was in use
// before. Does nothing when GLIBC_TUNABLES sets a glibc.malloc tunable, so
// that a user's settings win, and with other C libraries.
void keep_freed_memory();

}  // namespace nasq::util
