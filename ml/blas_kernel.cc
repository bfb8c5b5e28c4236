#include "ml/blas_kernel.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/log.h"

namespace tandem::ml {
namespace {

// "off" turns the automatic choice off.
constexpr char kModeVar[] = "TANDEM_BLAS_KERNEL";
// Set by the program for its own re-execution:
// "<OpenBLAS's core>|<candidates left, comma-separated>|<rejections>".
constexpr char kTrialVar[] = "TANDEM_BLAS_KERNEL_TRIAL";
// For tests: treat OpenBLAS's own choice as this core (e.g. "Prescott"), so
// the re-execution runs on a host whose CPU OpenBLAS knows.
constexpr char kAssumeVar[] = "TANDEM_BLAS_ASSUME_CORE";

std::string& Note() {
  static std::string* const note = new std::string();
  return *note;
}

// OpenBLAS's pre-AVX2 cores: SSE-era kernels and Sandybridge (AVX, no FMA).
bool IsPreAvx2Core(const std::string& core) {
  static const std::set<std::string> kCores = {
      "Katmai",     "Coppermine", "Northwood", "Prescott",
      "Banias",     "Atom",       "Core2",     "Penryn",
      "Dunnington", "Nehalem",    "Nano",      "Sandybridge"};
  return kCores.count(core) > 0;
}

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string FeatureText(const CpuFeatures& cpu) {
  return cpu.avx512 ? "AVX2, FMA and AVX-512" : "AVX2 and FMA";
}

// Re-executes this program with OPENBLAS_CORETYPE = candidates[0]; returns
// only when that fails.
void Reexecute(const std::string& fallback,
               const std::vector<std::string>& candidates,
               const std::string& rejections, char** argv) {
  const std::string rest = absl::StrJoin(
      std::vector<std::string>(candidates.begin() + 1, candidates.end()), ",");
  setenv("OPENBLAS_CORETYPE", candidates[0].c_str(), 1);
  setenv(kTrialVar, absl::StrCat(fallback, "|", rest, "|", rejections).c_str(),
         1);
  execv("/proc/self/exe", argv);
  LogWarning(absl::StrCat("BLAS kernel: could not re-execute to load ",
                          candidates[0], ": ", std::strerror(errno)));
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(kTrialVar);
  Note() = absl::StrCat(LoadedBlasCore(), " (OpenBLAS's own choice)");
}

// In the re-executed program: keep the loaded candidate if it verifies, or
// try the next one, or go back to OpenBLAS's own choice.
void ContinueTrial(const std::string& trial, char** argv) {
  unsetenv(kTrialVar);
  std::vector<std::string> parts = absl::StrSplit(trial, '|');
  parts.resize(3);
  const std::string& fallback = parts[0];
  std::vector<std::string> rest =
      absl::StrSplit(parts[1], ',', absl::SkipEmpty());
  std::string rejections = parts[2];
  const std::string requested = Getenv("OPENBLAS_CORETYPE");
  const std::string loaded = LoadedBlasCore();
  if (requested == fallback) {  // every candidate was rejected
    Note() = absl::StrCat(
        loaded, " (OpenBLAS's own choice; rejected: ", rejections, ")");
    return;
  }
  absl::Status verified =
      loaded == requested
          ? VerifyLoadedGemm()
          : absl::FailedPreconditionError(absl::StrCat("loaded ", loaded));
  if (verified.ok()) {
    Note() = absl::StrCat(
        loaded, " (chosen by Tandem: OpenBLAS fell back to ", fallback,
        " on a CPU with ", FeatureText(DetectCpuFeatures()), "; GEMMs verified",
        rejections.empty() ? "" : "; rejected: ", rejections, ")");
    return;
  }
  absl::StrAppend(&rejections, rejections.empty() ? "" : "; ", requested, ": ",
                  verified.message());
  if (rest.empty()) rest.push_back(fallback);
  Reexecute(fallback, rest, rejections, argv);
}

using SgemmFn = void (*)(const char*, const char*, const int*, const int*,
                         const int*, const float*, const float*, const int*,
                         const float*, const int*, const float*, float*,
                         const int*);

// Column-major element (i, j) of op(X), X stored with leading dimension ld.
float At(const std::vector<float>& x, char trans, int ld, int i, int j) {
  return trans == 'N' ? x[static_cast<size_t>(j) * ld + i]
                      : x[static_cast<size_t>(i) * ld + j];
}

std::vector<float> Uniform(size_t n, uint64_t* state) {
  std::vector<float> v(n);
  for (float& x : v) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>((*state >> 40) * 0x1.0p-24 * 2.0 - 1.0);
  }
  return v;
}

absl::Status CheckOneGemm(const GemmFn& gemm, char ta, char tb, int m, int n,
                          int k, uint64_t* state) {
  const int lda = ta == 'N' ? m : k, ldb = tb == 'N' ? k : n;
  const std::vector<float> a = Uniform(static_cast<size_t>(m) * k, state);
  const std::vector<float> b = Uniform(static_cast<size_t>(k) * n, state);
  std::vector<float> c(static_cast<size_t>(m) * n, NAN);
  gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), m);
  constexpr double kUnit = 0x1.0p-24;  // float's unit roundoff
  const double gamma = k * kUnit / (1 - k * kUnit);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double ref = 0, abs_sum = 0;
      for (int l = 0; l < k; ++l) {
        const double p =
            static_cast<double>(At(a, ta, lda, i, l)) * At(b, tb, ldb, l, j);
        ref += p;
        abs_sum += std::fabs(p);
      }
      const double got = c[static_cast<size_t>(j) * m + i];
      if (!(std::fabs(got - ref) <= gamma * abs_sum + 1e-30)) {
        return absl::InternalError(
            absl::StrCat("sgemm ", std::string(1, ta), std::string(1, tb), " ",
                         m, "x", n, "x", k, ": C(", i, ",", j, ") = ", got,
                         ", exact ", ref, ", bound ", gamma * abs_sum));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

CpuFeatures DetectCpuFeatures() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
  return f;
}

std::vector<std::string> KernelCandidates(const std::string& loaded_core,
                                          const CpuFeatures& cpu) {
  if (!IsPreAvx2Core(loaded_core) || !cpu.avx2 || !cpu.fma) return {};
  if (cpu.avx512) return {"SkylakeX", "Haswell"};
  return {"Haswell"};
}

absl::Status VerifyGemm(const GemmFn& gemm) {
  // Batch x in x out shapes of linear layers (the zoo's cnn and mlp, and
  // odd sizes that reach OpenBLAS's edge kernels).
  struct Shape {
    int batch, in, out;
  };
  const Shape kShapes[] = {{1, 1, 1},     {7, 3, 5},     {33, 257, 17},
                           {64, 128, 10}, {37, 131, 29}, {100, 784, 128}};
  uint64_t state = 20261207;
  for (const Shape& s : kShapes) {
    // Column-major views of row-major tensors, as LibTorch calls sgemm_:
    // forward y = x W^T, weight gradient g^T x, input gradient g W.
    struct Call {
      char ta, tb;
      int m, n, k;
    };
    const Call calls[] = {{'T', 'N', s.out, s.batch, s.in},
                          {'N', 'T', s.in, s.out, s.batch},
                          {'N', 'N', s.in, s.batch, s.out}};
    for (const Call& c : calls) {
      absl::Status st = CheckOneGemm(gemm, c.ta, c.tb, c.m, c.n, c.k, &state);
      if (!st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

absl::Status VerifyLoadedGemm() {
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  if (sgemm == nullptr) return absl::NotFoundError("no sgemm_ loaded");
  return VerifyGemm([sgemm](char ta, char tb, int m, int n, int k,
                            const float* a, int lda, const float* b, int ldb,
                            float* c, int ldc) {
    const float one = 1, zero = 0;
    sgemm(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &zero, c, &ldc);
  });
}

std::string LoadedBlasCore() {
  auto corename = reinterpret_cast<char* (*)()>(
      dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (corename == nullptr) return "";
  const char* name = corename();
  return name == nullptr ? "" : name;
}

void AdoptBestBlasKernel(char** argv) {
  const std::string trial = Getenv(kTrialVar);
  if (!trial.empty()) return ContinueTrial(trial, argv);
  const std::string core = LoadedBlasCore();
  if (core.empty()) {
    Note() = "not OpenBLAS";
    return;
  }
  if (!Getenv("OPENBLAS_CORETYPE").empty()) {
    Note() = absl::StrCat(core, " (set by OPENBLAS_CORETYPE)");
    return;
  }
  if (Getenv(kModeVar) == "off") {
    Note() = absl::StrCat(core, " (OpenBLAS's own choice; ", kModeVar, "=off)");
    return;
  }
  const std::string assumed =
      Getenv(kAssumeVar).empty() ? core : Getenv(kAssumeVar);
  const std::vector<std::string> candidates =
      KernelCandidates(assumed, DetectCpuFeatures());
  Note() = absl::StrCat(core, " (OpenBLAS's own choice)");
  if (!candidates.empty()) Reexecute(assumed, candidates, "", argv);
}

std::string BlasKernelNote() {
  if (Note().empty()) {
    const std::string core = LoadedBlasCore();
    return core.empty() ? "not OpenBLAS" : core;
  }
  return Note();
}

}  // namespace tandem::ml
