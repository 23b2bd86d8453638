# Compiles wmma_compile_check.hip for gfx1151 (device only) and checks that every WMMA
# wrapper became its v_wmma instruction. Arguments: CLANG, SRC, INC, OUT.
execute_process(
  COMMAND ${CLANG} -x hip --offload-arch=gfx1151 -nogpulib --cuda-device-only -O2 -S -I${INC} ${SRC} -o ${OUT}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang failed for gfx1151: ${err}")
endif()
file(READ ${OUT} asm)
foreach(insn v_wmma_f32_16x16x16_f16 v_wmma_f32_16x16x16_bf16 v_wmma_i32_16x16x16_iu8 v_wmma_i32_16x16x16_iu4)
  string(FIND "${asm}" "${insn}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${insn} missing from the gfx1151 assembly of ${SRC}")
  endif()
endforeach()
message(STATUS "all four v_wmma instructions present")
