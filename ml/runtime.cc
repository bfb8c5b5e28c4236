#include "ml/runtime.h"

#include <dlfcn.h>
#include <limits.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/version.h"
#include "ml/blas_kernel.h"

namespace tandem::ml {
namespace {

std::string LoadedBlasPath() {
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info;
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) {
    return "unknown";
  }
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) != nullptr) return resolved;
  return info.dli_fname;
}

bool freed_memory_kept = false;

template <typename Fn>
Fn FindSymbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int NumCores() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void SetComputeThreads(int threads) {
  // A thread's first parallel call (at::internal::lazy_init_num_threads)
  // sets its count to the last one any thread set, which would replace this
  // setting by whatever another thread chose meanwhile: make that call now.
  (void)at::get_num_threads();
  at::set_num_threads(threads > 0 ? threads : NumCores());
}

int ComputeThreads() { return at::get_num_threads(); }

void SetBlasThreads(int threads) {
  auto set = FindSymbol<void (*)(int)>("openblas_set_num_threads");
  if (set != nullptr) set(threads > 0 ? threads : NumCores());
}

void ReuseFreedTensorMemory() {
#if defined(__GLIBC__)
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit systems.
  constexpr int kMmapThreshold = 32 << 20;
  constexpr int kTrimThreshold = 1 << 30;
  freed_memory_kept = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
                      mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#endif
}

std::string DescribeBlas() {
  std::string blas = LoadedBlasPath();
  auto config = FindSymbol<char* (*)()>("openblas_get_config");
  if (config != nullptr) absl::StrAppend(&blas, " (", config(), ")");
  absl::StrAppend(&blas, ", kernel ", BlasKernelNote());
  return blas;
}

std::string LibTorchVersion() { return TORCH_VERSION; }

std::string ProgramVersion(const std::string& program) {
  return VersionText(program, LibTorchVersion(), DescribeBlas());
}

std::string DescribeRuntime() {
  auto threads = FindSymbol<int (*)()>("openblas_get_num_threads");
  return absl::StrCat(
      "BLAS: ", DescribeBlas(), ", BLAS threads ",
      threads != nullptr ? threads() : 1, ", LibTorch threads ",
      at::get_num_threads(), ", cores ", NumCores(), ", allocator: ",
      freed_memory_kept ? "glibc, freed blocks up to 32 MiB kept" : "default");
}

bool UsingReferenceBlas() {
  return FindSymbol<void (*)(int)>("openblas_set_num_threads") == nullptr &&
         !absl::StrContains(LoadedBlasPath(), "blis") &&
         !absl::StrContains(LoadedBlasPath(), "mkl");
}

void WarnIfReferenceBlas(const std::string& program) {
  if (UsingReferenceBlas()) {
    LogWarning(program +
               ": reference BLAS: install libopenblas0-pthread (15x faster)");
  }
}

}  // namespace tandem::ml
