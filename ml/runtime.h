// How many threads LibTorch and the BLAS use, and which BLAS is loaded.
//
// Debian's LibTorch calls whatever libblas.so.3 the system provides; the
// reference BLAS is ~15x slower than OpenBLAS on fully-connected layers, so
// every program reports it at start.
#ifndef TANDEM_ML_RUNTIME_H_
#define TANDEM_ML_RUNTIME_H_

#include <string>

namespace tandem::ml {

int NumCores();

// Intra-op threads for LibTorch work started from the calling thread (the
// OpenMP setting is per thread). threads <= 0 means all cores.
void SetComputeThreads(int threads);
int ComputeThreads();

// OpenBLAS's own thread pool (process-wide). No-op for other BLAS.
void SetBlasThreads(int threads);

// LibTorch allocates and frees tensors of megabytes at every step. glibc
// gives blocks above its mmap threshold fresh pages from the kernel each
// time, so every step pays page faults and zeroing: a VGG-5 step (batch 100,
// one thread) took 73 ms that way against 60 ms with freed blocks kept for
// reuse. This raises the mmap and trim thresholds so they are kept; the
// process holds on to its peak heap. Call once, first thing in main().
void ReuseFreedTensorMemory();

// "BLAS: <path> (<config>), BLAS threads N, LibTorch threads N, cores N,
// allocator: ...".
std::string DescribeRuntime();

// The loaded BLAS library's path, with OpenBLAS's build configuration when
// it is OpenBLAS, and the kernel with why it runs (ml/blas_kernel.h):
// "<path> (<config>), kernel <kernel> (<why>)".
std::string DescribeBlas();
// The LibTorch version built against, e.g. "1.13.1".
std::string LibTorchVersion();
// What `--version` prints for `program`: core/version.h's VersionText with
// this build's LibTorch and the loaded BLAS.
std::string ProgramVersion(const std::string& program);

// True when the loaded BLAS is the slow reference implementation.
bool UsingReferenceBlas();
// Logs a warning naming `program` when UsingReferenceBlas().
void WarnIfReferenceBlas(const std::string& program);

}  // namespace tandem::ml

#endif  // TANDEM_ML_RUNTIME_H_
