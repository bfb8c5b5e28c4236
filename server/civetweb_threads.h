// Lets civetweb (prometheus-cpp's HTTP server) start its threads in a
// process that links LibTorch and OpenBLAS.
//
// Debian's civetweb 1.15 creates its threads with a fixed 100 KiB stack
// (USE_STACK_SIZE=102400). glibc puts the static TLS of every library loaded
// at start on each thread's stack and refuses (EINVAL) a stack too small
// for it: OpenBLAS (60 KiB), glog (30 KiB) and LibTorch (10 KiB) exceed
// 100 KiB, so prometheus::Exposer failed with "Cannot create threads". This
// file defines pthread_attr_setstacksize, which the executable then exports
// ahead of glibc's: requests from libcivetweb below kMinCivetwebStack are
// raised to it, and every other caller gets glibc's function unchanged.
#ifndef TANDEM_SERVER_CIVETWEB_THREADS_H_
#define TANDEM_SERVER_CIVETWEB_THREADS_H_

#include <cstddef>

namespace tandem::server {

inline constexpr size_t kMinCivetwebStack = size_t{1} << 20;  // 1 MiB

// Call before starting an Exposer: it links this file's override in (an
// unreferenced object of a static library would be left out).
void AllowCivetwebThreads();

}  // namespace tandem::server

#endif  // TANDEM_SERVER_CIVETWEB_THREADS_H_
