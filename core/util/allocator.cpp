// glibc malloc settings that keep freed memory in the process.
#include "core/util/allocator.hpp"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nasq::util {

bool keep_freed_memory() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return false;
  for (const char* variable : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                               "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"}) {
    if (std::getenv(variable) != nullptr) return false;
  }
  // mallopt() returns 1 on success.
  return mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 &&
         mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
#else
  return false;
#endif
}

}  // namespace nasq::util
