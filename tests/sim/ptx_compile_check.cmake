# Assembles ptx_compile_check.cu for sm_121a and checks that every wrapper of
# kernels/cuda/ptx.cuh became its PTX instruction (not a fallback such as a trap).
# Arguments: NVCC, SRC, INC, OUT.
# One nvcc run for sm_121a; `mode` is -c (ptxas must accept every instruction) or -ptx (the
# text searched below).
function(nvcc_sm121a mode out)
  execute_process(
    COMMAND ${NVCC} -std=c++17 -I${INC} -gencode arch=compute_121a,code=sm_121a ${mode} ${SRC} -o ${out}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nvcc ${mode} failed for sm_121a: ${err}")
  endif()
endfunction()
nvcc_sm121a(-c ${OUT}.o)
nvcc_sm121a(-ptx ${OUT}.ptx)
file(READ ${OUT}.ptx ptx)
foreach(insn
    "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
    "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
    "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32"
    "mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32"
    "kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3"
    "kind::mxf4nvf4.block_scale.scale_vec::2X.f32.e2m1.e2m1.f32.ue8m0"
    "kind::mxf4.block_scale.scale_vec::2X.f32.e2m1.e2m1.f32.ue8m0"
    "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"
    "cp.async.cg.shared.global")
  string(FIND "${ptx}" "${insn}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${insn} missing from the sm_121a PTX of ${SRC}")
  endif()
endforeach()
message(STATUS "every ptx.cuh wrapper assembled for sm_121a")
