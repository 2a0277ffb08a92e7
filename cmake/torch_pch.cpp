// Empty source that lets CMake build the shared precompiled LibTorch header.
