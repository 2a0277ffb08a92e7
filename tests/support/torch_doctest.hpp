// Includes LibTorch and then doctest for tests that use both. LibTorch's glog
// defines CHECK and CHECK_EQ-style macros, which are dropped here so that
// doctest's macros of the same names take their place.
#pragma once

#include <torch/torch.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE
#include <doctest/doctest.h>
