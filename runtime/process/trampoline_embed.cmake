# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the exec trampoline (runtime/process/trampoline_prog.c, linked by
# CMakeLists.txt) as a C byte array for runtime/process/trampoline.c.
# usage: cmake -DIN=trampoline.elf -DOUT=trampoline_image.c -P trampoline_embed.cmake
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPEAT "0x..," 16 row)
string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
file(WRITE ${OUT}.tmp
     "/* Generated from runtime/process/trampoline_prog.c by runtime/process/trampoline_embed.cmake. */\n"
     "#include <stddef.h>\n\n"
     "#include \"runtime/process/trampoline.h\"\n\n"
     "const unsigned char trampoline_image[] = {\n    ${bytes}\n};\n"
     "const size_t trampoline_image_size = ${size};\n")
file(RENAME ${OUT}.tmp ${OUT})
