# Cross-compiles for linux-aarch64 on an x86-64 Debian host:
#   cmake -S . -B target/cmake-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# The compiler is Debian's gcc-aarch64-linux-gnu (glibc in /usr/aarch64-linux-gnu); OpenSSL and zlib
# come from the arm64 sysroot that scripts/install-aarch64.sh unpacks (WSCRT_AARCH64_SYSROOT, default
# /opt/wscrt-aarch64/sysroot), or from Debian's multiarch packages (libssl-dev:arm64) when installed
# the usual way. Tests run through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR), so ctest works as is.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# LTO needs the target's ar/ranlib wrappers.
set(CMAKE_AR aarch64-linux-gnu-gcc-ar CACHE FILEPATH "")
set(CMAKE_RANLIB aarch64-linux-gnu-gcc-ranlib CACHE FILEPATH "")

if(NOT WSCRT_AARCH64_SYSROOT)
  if(DEFINED ENV{WSCRT_AARCH64_SYSROOT})
    set(WSCRT_AARCH64_SYSROOT $ENV{WSCRT_AARCH64_SYSROOT})
  else()
    set(WSCRT_AARCH64_SYSROOT /opt/wscrt-aarch64/sysroot)
  endif()
endif()
set(WSCRT_AARCH64_SYSROOT ${WSCRT_AARCH64_SYSROOT} CACHE PATH "arm64 sysroot holding libssl-dev/zlib1g-dev")
if(NOT EXISTS ${WSCRT_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu/libssl.a
   AND NOT EXISTS /usr/lib/aarch64-linux-gnu/libssl.a)
  message(FATAL_ERROR "No arm64 OpenSSL (libssl.a) in ${WSCRT_AARCH64_SYSROOT} or /usr/lib/aarch64-linux-gnu: "
                      "run scripts/install-aarch64.sh (or build without the aarch64 profile: mvn -P!aarch64)")
endif()
# try_compile projects see these too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WSCRT_AARCH64_SYSROOT)

# Libraries and headers are looked up in the sysroot first, then in the cross glibc, then in the host's
# multiarch directories (/usr/lib/aarch64-linux-gnu: CMAKE_LIBRARY_ARCHITECTURE keeps x86-64's out).
# Programs (the emulator, tools) come from the host.
set(CMAKE_FIND_ROOT_PATH ${WSCRT_AARCH64_SYSROOT} /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(WSCRT_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
# The emulator's root: the sysroot (it holds arm64 glibc and libz.so.1, which the deflate tests load), or
# the cross glibc when the arm64 libraries were installed the multiarch way (/usr/lib/aarch64-linux-gnu).
if(WSCRT_QEMU_AARCH64)
  if(EXISTS ${WSCRT_AARCH64_SYSROOT}/lib/ld-linux-aarch64.so.1)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${WSCRT_QEMU_AARCH64} -L ${WSCRT_AARCH64_SYSROOT})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${WSCRT_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
  endif()
endif()
