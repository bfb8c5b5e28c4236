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

// "BLAS: <path> (<config>), BLAS threads N, LibTorch threads N, cores N".
std::string DescribeRuntime();

// True when the loaded BLAS is the slow reference implementation.
bool UsingReferenceBlas();

}  // namespace tandem::ml

#endif  // TANDEM_ML_RUNTIME_H_
