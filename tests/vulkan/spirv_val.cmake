# cmake -DSPIRV_VAL=<spirv-val> -DLIBDIR=<its lib dir> -DSPVS=<a.spv,b.spv,...> -P spirv_val.cmake
# Runs spirv-val (Vulkan 1.3 environment: the coopmat modules need SPIR-V 1.6) on every module
# and fails on the first one it rejects, printing the validator's message.
string(REPLACE "," ";" SPVS "${SPVS}")
list(LENGTH SPVS n)
if(n EQUAL 0)
  message(FATAL_ERROR "no SPIR-V module given")
endif()
foreach(spv IN LISTS SPVS)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${LIBDIR} ${SPIRV_VAL} --target-env vulkan1.3 ${spv}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "spirv-val rejects ${spv}:\n${out}")
  endif()
  message(STATUS "spirv-val: ${spv} valid")
endforeach()
