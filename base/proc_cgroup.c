/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing of /proc/<pid>/cgroup (cgroups(7)): "ID:CONTROLLERS:PATH" per
 * hierarchy, "0::PATH" for cgroup2.
 *
 * Works on a caller's buffer, unmodified, so it can be tested without
 * root or /proc and fuzzed. */
#include <string.h>

#include "berth/proc.h"

bool berth_proc_cgroup_next(const char **cursor, struct berth_proc_cgroup_entry *e)
{
        while (**cursor) {
                const char *line = *cursor;
                size_t len = strcspn(line, "\n");
                *cursor = line + len + (line[len] == '\n');
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
                if (!c2)
                        continue;
                e->controllers = c1 + 1;
                e->controllers_len = (size_t)(c2 - c1 - 1);
                e->path = c2 + 1;
                e->path_len = len - (size_t)(c2 + 1 - line);
                e->v2 = c1 - line == 1 && line[0] == '0' && e->controllers_len == 0;
                return true;
        }
        return false;
}
