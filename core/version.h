// What a Tandem program is: the project version, the git revision it was
// built from, and the versions of the libraries it runs on. `--version`
// prints VersionText (ml::ProgramVersion adds LibTorch and the BLAS).
//
//   tandem-server 0.4.0
//   git revision: 1a2b3c4d5e6f
//   LibTorch: 1.13.1
//   gRPC: 1.51.1
//   BLAS: /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 (...)
#ifndef TANDEM_CORE_VERSION_H_
#define TANDEM_CORE_VERSION_H_

#include <string>

namespace tandem {

// The project version (CMakeLists.txt's project(VERSION)), e.g. "0.4.0".
std::string TandemVersion();
// The source tree's git revision at build time (12 hex digits, "-dirty"
// when tracked files had changes), or "unknown" outside a git checkout.
std::string GitRevision();
// The version of the gRPC C++ library linked in, e.g. "1.51.1".
std::string GrpcVersion();

// The lines above, one "name: value" per line after the first.
std::string VersionText(const std::string& program, const std::string& libtorch,
                        const std::string& blas);

}  // namespace tandem

#endif  // TANDEM_CORE_VERSION_H_
