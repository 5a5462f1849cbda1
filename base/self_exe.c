/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The executables beside our own (berth/self_exe.h). */
#include "berth/self_exe.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int berth_self_sibling(const char *name, char *out, size_t len)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0)
                return -errno;
        char *slash = memrchr(self, '/', (size_t)n);
        if (!slash)
                return -ENOENT;
        *slash = '\0';
        int m = snprintf(out, len, "%s/%s", self, name);
        return m < 0 || (size_t)m >= len ? -ENAMETOOLONG : 0;
}
