#include "server/civetweb_threads.h"

#include <dlfcn.h>
#include <pthread.h>

#include <algorithm>
#include <cstring>

namespace tandem::server {
namespace {

using SetStackSize = int (*)(pthread_attr_t*, size_t);

// True when the code at `address` belongs to libcivetweb.
bool InCivetweb(const void* address) {
  Dl_info info;
  return dladdr(address, &info) != 0 && info.dli_fname != nullptr &&
         std::strstr(info.dli_fname, "libcivetweb") != nullptr;
}

}  // namespace

void AllowCivetwebThreads() {}

}  // namespace tandem::server

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  static const auto glibc = reinterpret_cast<tandem::server::SetStackSize>(
      dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  if (tandem::server::InCivetweb(__builtin_return_address(0))) {
    size = std::max(size, tandem::server::kMinCivetwebStack);
  }
  return glibc(attr, size);
}
