// SDK ABI version and the build facts that a plugin and the core must share.
#pragma once

namespace nasq::sdk {

// Raised on any change to the layout of an SDK type or to a virtual's signature.
// The loader refuses a plugin whose number differs from the core's.
inline constexpr int kAbiVersion = 2;

// Version of the SDK package (semantic; the major number equals kAbiVersion).
inline constexpr const char* kSdkVersion = "2.0.0";

// libstdc++ dual ABI flag of this translation unit (-1 where the standard
// library has no such flag).
#if defined(_GLIBCXX_USE_CXX11_ABI)
inline constexpr int kCxx11Abi = _GLIBCXX_USE_CXX11_ABI;
#else
inline constexpr int kCxx11Abi = -1;
#endif

}  // namespace nasq::sdk
