// Debian's ONNX 1.12 protobuf classes, with the macros that its CMake package
// would otherwise add as compile definitions.
//
// The export code links the `onnx` target through $<LINK_ONLY:...>, because
// its definitions (ONNX_ML=1, ONNX_NAMESPACE=onnx) on the command line would
// change the flags of the targets that reuse the LibTorch precompiled header.
// Debian builds libonnx with ONNX_ML, and LibTorch 1.13 from Debian links the
// same libonnx.so.1, so a process loads one copy of the `onnx` namespace.
#pragma once

#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif

#include <onnx/onnx_pb.h>
