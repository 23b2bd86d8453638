# cmake -P embed_spirv.cmake: writes one C++ table of every SPIR-V module.
#   -DOUT=<file.cpp> -DNAMES=<n1;n2;...> -DSPVDIR=<dir holding n.spv> -DSRCDIR=<kernels/vulkan>
# Each module becomes a uint32_t array (SPIR-V is a stream of 32-bit little-endian words,
# SPIR-V spec 2.3 "Physical Layout of a SPIR-V Module and Instruction").
string(REPLACE "," ";" NAMES "${NAMES}")
set(body "// generated from kernels/vulkan/*.comp by backends/vulkan/embed_spirv.cmake (glslc), do not edit\n")
string(APPEND body "#include \"backends/vulkan/spirv.h\"\n\nnamespace xk::vk {\n\nnamespace {\n\n")
set(table "")
foreach(name IN LISTS NAMES)
  file(READ "${SPVDIR}/${name}.spv" hex HEX)
  string(LENGTH "${hex}" len)
  math(EXPR words "${len} / 8")
  # Little-endian bytes b0 b1 b2 b3 -> word 0xb3b2b1b0.
  string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u," arr "${hex}")
  string(REGEX REPLACE "((0x........u,){8})" "\\1\n  " arr "${arr}")
  string(APPEND body "const uint32_t k_${name}[${words}] = {\n  ${arr}\n};\n\n")
  string(APPEND table "      {\"${name}\", {k_${name}, ${words}}},\n")
endforeach()
string(APPEND body "struct Entry {\n  std::string_view name;\n  Spirv spirv;\n};\n\n}  // namespace\n\n")
string(APPEND body "Spirv find_spirv(std::string_view name) {\n  static const Entry kTable[] = {\n${table}  };\n")
string(APPEND body "  for (const Entry& e : kTable)\n    if (e.name == name) return e.spirv;\n  return {};\n}\n\n}  // namespace xk::vk\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
