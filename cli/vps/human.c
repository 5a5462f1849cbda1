// SPDX-License-Identifier: GPL-2.0-or-later
/* The human face of vps status and list: sizes in binary units, rates per
 * second, CPU time in seconds, lists as comma-separated text. The JSON
 * output keeps the plain numbers (bytes, nanoseconds) for scripts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/vps/vps_cli.h"

enum kind { PLAIN, BYTES, RATE, NANOSECONDS };

/* The status keys (flattened "a.b") whose numbers are sizes or times. */
static enum kind key_kind(const char *key)
{
        static const struct {
                const char *key;
                enum kind kind;
        } keys[] = {
            {"limits.memory", BYTES},
            {"limits.swap", BYTES},
            {"limits.disk", BYTES},
            {"limits.io_read", RATE},
            {"limits.io_write", RATE},
            {"usage.memory", BYTES},
            {"usage.memory_max", BYTES},
            {"usage.cpu_ns", NANOSECONDS},
            {"usage.cpu_throttled_ns", NANOSECONDS},
            {"disk.used", BYTES},
            {"disk.size", BYTES},
            {"io.read_bytes", BYTES},
            {"io.write_bytes", BYTES},
        };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (!strcmp(key, keys[i].key))
                        return keys[i].kind;
        return PLAIN;
}

void vps_human_bytes(uint64_t n, char *buf, size_t len)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%" PRIu64 " B", n);
        else
                snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* ["a", "b"] -> "a, b"; false for anything but a list of strings. */
bool vps_human_list(json_t *v, char *buf, size_t len)
{
        if (!json_is_array(v))
                return false;
        size_t i, off = 0;
        json_t *e;
        buf[0] = '\0';
        json_array_foreach(v, i, e)
        {
                if (!json_is_string(e))
                        return false;
                int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", json_string_value(e));
                if (n < 0 || (size_t)n >= len - off)
                        return false;
                off += (size_t)n;
        }
        if (!i)
                snprintf(buf, len, "-");
        return true;
}

bool vps_human_value(const char *key, json_t *v, char *buf, size_t len)
{
        if (vps_human_list(v, buf, len))
                return true;
        enum kind k = key_kind(key);
        if (k == PLAIN || !json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        uint64_t n = (uint64_t)json_integer_value(v);
        if (k == NANOSECONDS) {
                snprintf(buf, len, "%.3f s", (double)n / 1e9);
                return true;
        }
        vps_human_bytes(n, buf, len);
        if (k == RATE)
                strncat(buf, "/s", len - strlen(buf) - 1);
        return true;
}
