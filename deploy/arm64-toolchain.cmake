# CMake toolchain file: Tandem for Debian 12 arm64 (aarch64-linux-gnu),
# cross-compiled with Debian's g++-aarch64-linux-gnu against an arm64 sysroot
# of Debian's own packages (deploy/build-arm64.sh makes both and passes
# -DTANDEM_ARM64_SYSROOT=<dir>; the environment variable of the same name
# works too).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(NOT TANDEM_ARM64_SYSROOT AND DEFINED ENV{TANDEM_ARM64_SYSROOT})
  set(TANDEM_ARM64_SYSROOT "$ENV{TANDEM_ARM64_SYSROOT}")
endif()
if(NOT TANDEM_ARM64_SYSROOT OR NOT EXISTS "${TANDEM_ARM64_SYSROOT}/usr/include")
  message(FATAL_ERROR "TANDEM_ARM64_SYSROOT=\"${TANDEM_ARM64_SYSROOT}\": not "
    "an arm64 sysroot (make one with deploy/build-arm64.sh)")
endif()
# try_compile projects re-read this file: hand them the sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TANDEM_ARM64_SYSROOT)

set(CMAKE_SYSROOT "${TANDEM_ARM64_SYSROOT}")
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries, headers and CMake packages come from the sysroot only; programs
# from the host.
set(CMAKE_FIND_ROOT_PATH "${TANDEM_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config (gRPC's config finds re2 with it) reads the sysroot's .pc files.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${TANDEM_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR} "${TANDEM_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${TANDEM_ARM64_SYSROOT}/usr/share/pkgconfig")

# Code generation runs on the host: the host's protoc (FindProtobuf's
# protobuf::protoc, proto/CMakeLists.txt) and grpc_cpp_plugin (packages
# protobuf-compiler and protobuf-compiler-grpc, the same versions as the
# sysroot's libprotobuf-dev and libgrpc++-dev).
set(Protobuf_PROTOC_EXECUTABLE /usr/bin/protoc CACHE FILEPATH
  "host protoc (cross build)")
set(GRPC_CPP_PLUGIN /usr/bin/grpc_cpp_plugin CACHE FILEPATH
  "host grpc_cpp_plugin (cross build)")

# Running arm64 binaries on the host (ctest, gtest_discover_tests).
find_program(TANDEM_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(TANDEM_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR
    "${TANDEM_QEMU_AARCH64};-L;${TANDEM_ARM64_SYSROOT}")
endif()
