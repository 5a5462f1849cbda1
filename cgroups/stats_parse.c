/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for the flat-keyed and nested-keyed stat files of both versions.
 * They take buffers, so tests feed them canned file contents. */
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"

/* "key value" per line (memory.events, cpu.stat, pids.events, cgroup.events,
 * memory.oom_control, cpuacct.stat). */
bool cg_keyed_u64(const char *buf, const char *key, uint64_t *v)
{
        size_t kl = strlen(key);
        for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
                        char *end;
                        unsigned long long x = strtoull(p + kl + 1, &end, 10);
                        if (end == p + kl + 1)
                                return false;
                        *v = x;
                        return true;
                }
        }
        return false;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
void cg_parse_io_stat(const char *buf, uint64_t *rb, uint64_t *wb, uint64_t *rio, uint64_t *wio)
{
        static const char *const keys[4] = {"rbytes=", "wbytes=", "rios=", "wios="};
        uint64_t *out[4] = {rb, wb, rio, wio};
        for (int k = 0; k < 4; k++)
                *out[k] = 0;
        for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                const char *eol = strchrnul(p, '\n');
                for (const char *t = p; t < eol;) {
                        const char *sp = strchrnul(t, ' ');
                        if (sp > eol)
                                sp = eol;
                        for (int k = 0; k < 4; k++) {
                                size_t kl = strlen(keys[k]);
                                if ((size_t)(sp - t) > kl && strncmp(t, keys[k], kl) == 0)
                                        *out[k] += strtoull(t + kl, NULL, 10);
                        }
                        t = sp + (sp < eol);
                }
        }
}

/* blkio.*_recursive: "8:0 Read 123" ... "Total 456"; sums Read and Write
 * over the devices. */
void cg_parse_blkio(const char *buf, uint64_t *read, uint64_t *write)
{
        *read = *write = 0;
        for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                const char *sp = strchr(p, ' ');
                const char *eol = strchrnul(p, '\n');
                if (!sp || sp > eol || !strchr(p, ':') || strchr(p, ':') > sp)
                        continue;
                if (strncmp(sp + 1, "Read ", 5) == 0)
                        *read += strtoull(sp + 6, NULL, 10);
                else if (strncmp(sp + 1, "Write ", 6) == 0)
                        *write += strtoull(sp + 7, NULL, 10);
        }
}
