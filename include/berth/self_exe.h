/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The executables installed beside berth's own: the static berth hands
 * verbs to berth-full, and the console keeper moves between the two. */
#ifndef BERTH_SELF_EXE_H
#define BERTH_SELF_EXE_H

#include <stddef.h>

/* The path of name in the directory of the running executable
 * (/proc/self/exe): 0, or -errno (-ENAMETOOLONG when len is too small). */
int berth_self_sibling(const char *name, char *out, size_t len);

#endif
