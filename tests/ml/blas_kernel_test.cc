// The BLAS kernel rule and the GEMM check that admits a kernel
// (ml/blas_kernel.h).
#include "ml/blas_kernel.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::ml {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(KernelCandidatesTest, ActsOnlyOnAPreAvx2FallbackOfAnAvx2Cpu) {
  const CpuFeatures avx2{true, true, false};
  const CpuFeatures avx512{true, true, true};
  EXPECT_THAT(KernelCandidates("Prescott", avx2), ElementsAre("Haswell"));
  EXPECT_THAT(KernelCandidates("Sandybridge", avx2), ElementsAre("Haswell"));
  EXPECT_THAT(KernelCandidates("Prescott", avx512),
              ElementsAre("SkylakeX", "Haswell"));
  // OpenBLAS knew the CPU: its choice stands.
  EXPECT_THAT(KernelCandidates("Haswell", avx512), IsEmpty());
  EXPECT_THAT(KernelCandidates("Zen", avx2), IsEmpty());
  EXPECT_THAT(KernelCandidates("SkylakeX", avx512), IsEmpty());
  // A CPU without AVX2 and FMA has nothing better to run.
  EXPECT_THAT(KernelCandidates("Prescott", CpuFeatures{true, false, false}),
              IsEmpty());
  EXPECT_THAT(KernelCandidates("Prescott", CpuFeatures{}), IsEmpty());
}

// Column-major C = op(A) op(B), summing k terms in `order` (forward or
// backward), optionally leaving the last term out.
GemmFn NaiveGemm(bool backward, bool drop_last) {
  return [=](char ta, char tb, int m, int n, int k, const float* a, int lda,
             const float* b, int ldb, float* c, int ldc) {
    auto at = [](const float* x, char t, int ld, int i, int j) {
      return t == 'N' ? x[j * ld + i] : x[i * ld + j];
    };
    const int terms = drop_last && k > 1 ? k - 1 : k;
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        float sum = 0;
        for (int t = 0; t < terms; ++t) {
          const int l = backward ? terms - 1 - t : t;
          sum += at(a, ta, lda, i, l) * at(b, tb, ldb, l, j);
        }
        c[j * ldc + i] = sum;
      }
    }
  };
}

TEST(VerifyGemmTest, AdmitsCorrectGemmsInAnySummationOrder) {
  EXPECT_TRUE(VerifyGemm(NaiveGemm(false, false)).ok());
  EXPECT_TRUE(VerifyGemm(NaiveGemm(true, false)).ok());
}

TEST(VerifyGemmTest, RejectsAWrongGemmNamingTheElement) {
  absl::Status s = VerifyGemm(NaiveGemm(false, true));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("sgemm "));
  EXPECT_THAT(s.message(), HasSubstr("bound"));
}

TEST(VerifyGemmTest, AdmitsTheLoadedKernel) {
  absl::Status s = VerifyLoadedGemm();
  EXPECT_TRUE(s.ok()) << s << " (kernel " << BlasKernelNote() << ")";
}

}  // namespace
}  // namespace tandem::ml
