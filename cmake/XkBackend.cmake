include(XkToolchainProbe)

# xk_backend_decision(<NAME> <FOUND> <why_missing>) sets XK_HAS_<NAME> from the XK_<NAME>
# switch (AUTO/ON/OFF), whether the toolchain was found, and whether it can build a
# one-kernel probe (xk_toolchain_probe). ON with a missing or broken toolchain is an error;
# AUTO switches the backend off and records the reason in XK_<NAME>_OFF_REASON, which the
# configure summary and `xk devices` print.
function(xk_backend_decision name found why_missing)
  string(TOUPPER "${XK_${name}}" mode)
  set(why "")
  if(mode STREQUAL "OFF" OR mode STREQUAL "FALSE" OR mode STREQUAL "0")
    set(why "switched off (XK_${name}=${XK_${name}})")
  elseif(NOT found)
    set(why "${why_missing}")
  else()
    xk_toolchain_probe(${name} probe_ok why)
  endif()
  set(XK_${name}_OFF_REASON "${why}" CACHE INTERNAL "why the ${name} backend is not built ('' when it is)")
  if(NOT why)
    set(XK_HAS_${name} 1 PARENT_SCOPE)
    return()
  endif()
  if(mode STREQUAL "ON" OR mode STREQUAL "TRUE" OR mode STREQUAL "1")
    message(FATAL_ERROR "XK_${name}=ON but ${why}")
  endif()
  message(STATUS "xkern: ${name} backend off: ${why}")
  set(XK_HAS_${name} 0 PARENT_SCOPE)
endfunction()

# The reasons as compile definitions of the registry (XK_<NAME>_OFF_REASON="..."), reduced
# to characters every generator and shell pass through unchanged.
function(xk_backend_reasons_to_registry registry_source)
  foreach(name VULKAN CUDA HIP SIM)
    if(XK_${name}_OFF_REASON)
      string(REGEX REPLACE "[^-A-Za-z0-9 _.,:()/=+@!]" "_" text "not built: ${XK_${name}_OFF_REASON}")
      set_property(SOURCE ${registry_source} TARGET_DIRECTORY xk APPEND PROPERTY
                   COMPILE_DEFINITIONS "XK_${name}_OFF_REASON=\"${text}\"")
    endif()
  endforeach()
endfunction()

# find_package(CUDAToolkit) for backends/cuda. Debian 12's CMake 3.25.1 FindCUDAToolkit sets
# a DEPRECATION property on CUDA::nvToolsExt without checking that the target exists when
# the project requires CMake >= 3.25; CUDA 12.9 and 13 ship no libnvToolsExt (NVTX is the
# header-only nvtx3), so configure fails on a stock machine. The lookup runs as a 3.24
# project, which skips that line; nothing else in the module reads the variable. A macro:
# the imported CUDA:: targets must be created in the calling directory.
macro(xk_find_cuda_toolkit)
  set(_xk_saved_min_version ${CMAKE_MINIMUM_REQUIRED_VERSION})
  set(CMAKE_MINIMUM_REQUIRED_VERSION 3.24)
  find_package(CUDAToolkit QUIET)
  set(CMAKE_MINIMUM_REQUIRED_VERSION ${_xk_saved_min_version})
endmacro()
