#include "core/version.h"

#include "absl/strings/str_cat.h"
#include "core/build_version.h"  // generated: cmake/git_revision.cmake
#include "grpcpp/grpcpp.h"

namespace tandem {

std::string TandemVersion() { return TANDEM_VERSION; }

std::string GitRevision() { return TANDEM_GIT_REVISION; }

std::string GrpcVersion() { return grpc::Version(); }

std::string VersionText(const std::string& program, const std::string& libtorch,
                        const std::string& blas) {
  return absl::StrCat(program, " ", TandemVersion(),
                      "\ngit revision: ", GitRevision(),
                      "\nLibTorch: ", libtorch, "\ngRPC: ", GrpcVersion(),
                      "\nBLAS: ", blas, "\n");
}

}  // namespace tandem
