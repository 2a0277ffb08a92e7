// Times LibTorch's matrix and convolution work, to compare BLAS libraries.
//
// Run it once per BLAS, for example:
//   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas build/bin/bench_blas
//   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread build/bin/bench_blas
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>

namespace {

double milliseconds_per_call(const std::function<void()>& call, int repeats) {
  call();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) call();
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / repeats;
}

}  // namespace

int main() {
  torch::manual_seed(0);
  std::printf("threads: %d\n", torch::get_num_threads());

  const auto fc_input = torch::randn({64, 1280});
  const auto fc_weight = torch::randn({10, 1280}, torch::requires_grad());
  std::printf("fc 64x1280 -> 10, forward+backward: %.3f ms\n", milliseconds_per_call([&] {
                torch::linear(fc_input, fc_weight).sum().backward();
              }, 200));

  const auto a = torch::randn({512, 512});
  const auto b = torch::randn({512, 512});
  std::printf("matmul 512x512x512: %.3f ms\n",
              milliseconds_per_call([&] { (void)torch::mm(a, b); }, 50));

  const auto x = torch::randn({64, 96, 14, 14});
  const auto pointwise = torch::randn({32, 96, 1, 1}, torch::requires_grad());
  std::printf("1x1 conv 64x96x14x14 -> 32, forward+backward: %.3f ms\n", milliseconds_per_call([&] {
                torch::conv2d(x, pointwise).sum().backward();
              }, 20));

  const auto depthwise = torch::randn({96, 1, 7, 7}, torch::requires_grad());
  std::printf("7x7 depthwise conv 64x96x14x14, forward+backward: %.3f ms\n",
              milliseconds_per_call([&] {
                torch::conv2d(x, depthwise, {}, 1, 3, 1, 96).sum().backward();
              }, 20));
  return 0;
}
