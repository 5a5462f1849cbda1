/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing of /proc/<pid>/mountinfo lines (proc(5)).
 *
 * Works on a caller's buffer so it can be tested without root or /proc. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "berth/proc.h"

/* The kernel escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *out = s;
        for (char *in = s; *in; in++) {
                if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
                    in[3] >= '0' && in[3] <= '7') {
                        *out++ = (char)(((in[1] - '0') << 6) | ((in[2] - '0') << 3) | (in[3] - '0'));
                        in += 3;
                } else {
                        *out++ = *in;
                }
        }
        *out = '\0';
}

static char *next_field(char **cursor)
{
        char *s = *cursor;
        while (*s == ' ')
                s++;
        if (*s == '\0' || *s == '\n')
                return NULL;
        char *end = s + strcspn(s, " \n");
        if (*end)
                *end++ = '\0';
        *cursor = end;
        return s;
}

int berth_mountinfo_parse_line(char *line, struct berth_mountinfo_entry *e)
{
        char *cur = line, *end;
        char *f[6];
        for (int i = 0; i < 6; i++)
                if (!(f[i] = next_field(&cur)))
                        return -EINVAL;
        e->id = (unsigned)strtoul(f[0], &end, 10);
        if (*end)
                return -EINVAL;
        e->parent = (unsigned)strtoul(f[1], &end, 10);
        if (*end)
                return -EINVAL;
        e->root = f[3];
        e->mount_point = f[4];
        e->options = f[5];
        /* Optional fields (shared:N, master:N, ...) end with a lone "-". */
        char *sep;
        do {
                if (!(sep = next_field(&cur)))
                        return -EINVAL;
        } while (strcmp(sep, "-") != 0);
        if (!(e->fstype = next_field(&cur)) || !(e->source = next_field(&cur)))
                return -EINVAL;
        e->super_options = next_field(&cur);
        if (!e->super_options) /* point at an empty string inside the line */
                e->super_options = e->source + strlen(e->source);
        unescape(e->root);
        unescape(e->mount_point);
        unescape(e->source);
        return 0;
}

bool berth_mountinfo_next(char **cursor, struct berth_mountinfo_entry *e)
{
        while (**cursor) {
                char *line = *cursor, *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                *cursor = nl ? nl + 1 : line + strlen(line);
                if (berth_mountinfo_parse_line(line, e) == 0)
                        return true;
        }
        return false;
}
