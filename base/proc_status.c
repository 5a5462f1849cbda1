/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing of /proc/<pid>/status (proc(5)): the signal masks, "SigCgt:"
 * and its kind, "KEY:<tab>16 hex digits" per line.
 *
 * Works on a caller's buffer, unmodified, so it can be tested without
 * root or /proc. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "berth/proc.h"

int berth_proc_status_sigmask(const char *buf, const char *key, uint64_t *mask)
{
        size_t kl = strlen(key);
        for (const char *line = buf; *line;) {
                size_t len = strcspn(line, "\n");
                if (len > kl && !strncmp(line, key, kl) && line[kl] == ':') {
                        const char *p = line + kl + 1, *end = line + len;
                        while (p < end && (*p == ' ' || *p == '\t'))
                                p++;
                        uint64_t m = 0;
                        int digits = 0;
                        for (; p < end && isxdigit((unsigned char)*p); p++, digits++) {
                                int c = tolower((unsigned char)*p);
                                m = m << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
                        }
                        if (digits == 0 || digits > 16 || p != end)
                                return -EINVAL;
                        *mask = m;
                        return 0;
                }
                line += len + (line[len] == '\n');
        }
        return -ENOENT;
}
