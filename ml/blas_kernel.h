// Which OpenBLAS kernel a Tandem program computes with, chosen at start.
//
// Debian's OpenBLAS (0.3.21) picks its kernel from CPUID when the library
// loads. On CPUs it does not know (a recent Xeon, model 207) it falls back to
// its SSE3 "Prescott" kernels, 2-3x slower on linear layers than the AVX2 +
// FMA "Haswell" kernels the CPU can run. OpenBLAS reads OPENBLAS_CORETYPE only
// when it loads, and it loads with the program (LibTorch links it), so the
// choice is made by re-executing the program once with the variable set:
//
//   int main(int argc, char** argv) {
//     tandem::ml::AdoptBestBlasKernel(argv);  // first thing; may not return
//     ...
//   }
//
// The rule: act only when OPENBLAS_CORETYPE is unset, TANDEM_BLAS_KERNEL is
// not "off", OpenBLAS's own choice is a pre-AVX2 core (SSE or Sandybridge
// kernels), and CPUID reports AVX2 and FMA. Candidates, best first: SkylakeX
// when CPUID reports AVX-512 F, CD, BW, DQ and VL; then Haswell. The
// re-executed program verifies the kernel it loaded (VerifyLoadedGemm) and
// moves to the next candidate when it fails; when every candidate fails it
// runs on OpenBLAS's own choice. Not thread-safe: call before any thread.
#ifndef TANDEM_ML_BLAS_KERNEL_H_
#define TANDEM_ML_BLAS_KERNEL_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tandem::ml {

struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512 = false;  // F, CD, BW, DQ and VL together (SkylakeX's set)
};

// What CPUID reports for this CPU.
CpuFeatures DetectCpuFeatures();

// The kernels worth trying, best first, when OpenBLAS loaded `loaded_core`
// on a CPU with `cpu`; empty when OpenBLAS's own choice stands (a core of
// AVX2 or later, or one this rule does not know).
std::vector<std::string> KernelCandidates(const std::string& loaded_core,
                                          const CpuFeatures& cpu);

// C = op(A) op(B), single precision, column-major, as BLAS's sgemm_ with
// alpha 1 and beta 0: transa/transb 'N' or 'T'.
using GemmFn = std::function<void(char transa, char transb, int m, int n, int k,
                                  const float* a, int lda, const float* b,
                                  int ldb, float* c, int ldc)>;

// Checks `gemm` on the three products of a linear layer's training step
// (forward x W^T, weight gradient g^T x, input gradient g W) at odd and
// model-sized shapes against a double-precision reference. Every element
// must lie within the floating-point bound of a k-term dot product in any
// summation order, |c - ref| <= gamma_k * sum_l |a_il||b_lj| with
// gamma_k = k u / (1 - k u), u = 2^-24: a correct kernel always passes, a
// wrong one (wrong result, not merely another order) fails.
absl::Status VerifyGemm(const GemmFn& gemm);
// VerifyGemm on the loaded BLAS's sgemm_.
absl::Status VerifyLoadedGemm();

// Re-executes the program with the best verified kernel when the rule above
// says so (does not return then); records what was chosen and why for
// BlasKernelNote. `argv` is main's, before flags are parsed.
void AdoptBestBlasKernel(char** argv);

// The loaded OpenBLAS kernel ("Haswell"), or "" for another BLAS.
std::string LoadedBlasCore();
// The kernel and why it runs, e.g. "Haswell (chosen by Tandem: OpenBLAS fell
// back to Prescott on a CPU with AVX2 and FMA; GEMMs verified)".
std::string BlasKernelNote();

}  // namespace tandem::ml

#endif  // TANDEM_ML_BLAS_KERNEL_H_
