# Settings for the device-kit bundle (preset `kit`, driven by tools/device-kit): executables
# that run on a bare GPU machine, where nothing of ours is installed. Included right after
# project() through CMAKE_PROJECT_INCLUDE, so the main CMakeLists.txt stays unaware of it.
#
# What may stay dynamic (present on any Linux GPU machine): glibc (libc, libm, libpthread,
# libdl, librt, ld-linux), libcuda (cudart_static dlopen()s it) and libvulkan (the Vulkan
# backend dlopen()s it; the bundle carries Debian's loader for machines that lack one).
# Everything else is linked statically:
#   libstdc++ / libgcc  -static-libstdc++ -static-libgcc (the GPU machine's may be older)
#   Boost.Context       Boost_USE_STATIC_LIBS (Debian ships libboost_context.a)
#   GoogleTest          Debian ships only libgtest.a
#   Google Benchmark    Debian ships only libbenchmark.so: tools/device-kit builds the
#                       static library from Debian's source package and passes
#                       XK_BUNDLE_BENCHMARK_PREFIX
#   cudart              backends/cuda links CUDA::cudart_static already
# nlohmann-json and CLI11 are header-only.
set(Boost_USE_STATIC_LIBS ON)
add_link_options(-static-libstdc++ -static-libgcc)

set(XK_BUNDLE_BENCHMARK_PREFIX "" CACHE PATH "Install prefix of a static Google Benchmark (tools/device-kit builds one)")
if(NOT XK_BUNDLE_BENCHMARK_PREFIX)
  message(FATAL_ERROR "XkBundle: XK_BUNDLE_BENCHMARK_PREFIX is not set; build the bundle with `tools/device-kit bundle DIR`")
endif()
# Found here, first and only in that prefix; the main CMakeLists.txt's find_package(benchmark)
# then reuses the cached benchmark_DIR.
find_package(benchmark CONFIG REQUIRED PATHS ${XK_BUNDLE_BENCHMARK_PREFIX} NO_DEFAULT_PATH)
get_target_property(_xk_bm_type benchmark::benchmark TYPE)
if(NOT _xk_bm_type STREQUAL "STATIC_LIBRARY")
  message(FATAL_ERROR "XkBundle: benchmark::benchmark in ${XK_BUNDLE_BENCHMARK_PREFIX} is ${_xk_bm_type}, not a static library")
endif()
message(STATUS "xkern bundle: static libstdc++/libgcc, Boost.Context, GoogleTest, Google Benchmark (${benchmark_DIR}), cudart")
