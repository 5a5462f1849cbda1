#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# extract-vmlinux.sh BZIMAGE OUT
#
# Writes the uncompressed ELF kernel (vmlinux) embedded in a bzImage.
# qemu's microvm machine boots an ELF vmlinux through its PVH entry point,
# which is much faster than going through a BIOS + bzImage setup code.
#
# A bzImage carries the kernel as one compressed stream behind the real-mode
# setup code.  We look for the magic of every compressor the kernel supports
# and try each candidate offset until one decompresses to an ELF image; the
# first hit is not always right because the magic bytes may also occur by
# chance inside the setup code.
set -eu

in=${1:?usage: extract-vmlinux.sh BZIMAGE OUT}
out=${2:?usage: extract-vmlinux.sh BZIMAGE OUT}
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

is_elf() {
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

# try MAGIC_OCTAL_ESCAPES DECOMPRESS_COMMAND...
try() {
	magic=$1
	shift
	# grep -obUaP prints byte offsets of every match of the binary magic.
	for off in $(LC_ALL=C grep -obUaP "$magic" "$in" 2>/dev/null | cut -d: -f1); do
		# Trailing bytes after the stream make the decompressors complain;
		# what matters is whether an ELF came out.
		tail -c "+$((off + 1))" "$in" | "$@" >"$tmp" 2>/dev/null || true
		if [ -s "$tmp" ] && is_elf "$tmp"; then
			mv "$tmp" "$out"
			return 0
		fi
	done
	return 1
}

try '\xfd\x37\x7a\x58\x5a\x00' xz -dc --single-stream && exit 0
try '\x28\xb5\x2f\xfd' zstd -dc -q && exit 0
try '\x1f\x8b\x08' gzip -dc -q && exit 0
try '\x02\x21\x4c\x18' lz4 -dc -q && exit 0
echo "extract-vmlinux.sh: no compressed ELF kernel found in $in" >&2
exit 1
