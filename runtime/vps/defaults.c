/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host defaults for `vps create` (as vzctl's ve-*.conf-sample): a VPS
 * created without options would otherwise have no memory, pids or CPU
 * limit at all. The provider writes them once:
 *
 *   $BERTH_CONFIG_DIR/vps-defaults.json (default /etc/berth/vps-defaults.json)
 *   {"memory": "1G", "swap": "512M", "cpus": "1.5", "cpu_weight": 100, "pids": 1024,
 *    "disk": "10G", "inodes": 655360, "io_read": "100M", "io_write": "50M",
 *    "iops_read": 2000, "iops_write": 1000}
 *
 * disk, io_read and io_write (bytes per second) like memory; inodes and
 * iops_* integers (runtime/vps/disk_limits.c).
 * memory and swap: bytes, or a string with K/M/G/T; cpus: a number or a
 * string ("1.5"); cpu_weight and pids: integers. A limit given on the
 * command line wins; swap applies only with a memory limit. No file: no
 * defaults. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* A size: a non-negative integer or a string berth_vps_parse_size takes. */
static int get_size(json_t *v, int64_t *out)
{
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
                *out = json_integer_value(v);
                return 0;
        }
        return json_is_string(v) ? berth_vps_parse_size(json_string_value(v), out) : -EINVAL;
}

static int get_cpus(json_t *v, uint64_t *quota)
{
        char buf[64];
        if (json_is_number(v) && json_number_value(v) > 0)
                snprintf(buf, sizeof(buf), "%.6f", json_number_value(v));
        else if (json_is_string(v))
                snprintf(buf, sizeof(buf), "%s", json_string_value(v));
        else
                return -EINVAL;
        return berth_vps_parse_cpus(buf, quota);
}

static int get_count(json_t *v, int64_t *out)
{
        if (!json_is_integer(v) || json_integer_value(v) < 1)
                return -EINVAL;
        *out = json_integer_value(v);
        return 0;
}

static int parse_key(const char *key, json_t *v, struct berth_vps_limits *d)
{
        int64_t n = 0;
        if (!strcmp(key, "memory"))
                return d->has_memory = true, get_size(v, &d->memory);
        if (!strcmp(key, "swap"))
                return d->has_swap = true, get_size(v, &d->swap);
        if (!strcmp(key, "cpus"))
                return d->has_cpus = true, get_cpus(v, &d->cpu_quota);
        if (!strcmp(key, "pids"))
                return d->has_pids = true, get_count(v, &d->pids);
        if (!strcmp(key, "cpu_weight")) {
                int r = get_count(v, &n);
                d->has_cpu_weight = true;
                d->cpu_weight = (uint64_t)n;
                return r < 0 || n > 10000 ? -EINVAL : 0;
        }
        return vps_storage_default_key(key, v, d);
}

int vps_defaults_load(struct berth_vps_limits *d, struct berth_err *err)
{
        memset(d, 0, sizeof(*d));
        char path[PATH_MAX];
        _cleanup_json_ json_t *doc = NULL;
        int r = vps_host_config_load("vps-defaults.json", path, sizeof(path), &doc, err);
        if (r < 0 || !doc)
                return r;
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v)
        {
                r = parse_key(key, v, d);
                if (r == -ENOENT)
                        r = berth_err_set(
                            err, EINVAL,
                            "%s: unknown key \"%s\" (memory, swap, cpus, cpu_weight, pids, disk, "
                            "inodes, io_read, io_write, iops_read, iops_write)",
                            path, key);
                else if (r < 0)
                        r = berth_err_set(err, EINVAL, "%s: %s: invalid value", path, key);
                if (r < 0)
                        break;
        }
        return r < 0 ? r : 0;
}

void vps_defaults_apply(struct berth_vps_limits *l, const struct berth_vps_limits *d)
{
        if (!l->has_memory && d->has_memory) {
                l->has_memory = true;
                l->memory = d->memory;
        }
        if (!l->has_swap && d->has_swap && l->has_memory) {
                l->has_swap = true;
                l->swap = d->swap;
        }
        if (!l->has_cpus && d->has_cpus) {
                l->has_cpus = true;
                l->cpu_quota = d->cpu_quota;
        }
        if (!l->has_cpu_weight && d->has_cpu_weight) {
                l->has_cpu_weight = true;
                l->cpu_weight = d->cpu_weight;
        }
        if (!l->has_pids && d->has_pids) {
                l->has_pids = true;
                l->pids = d->pids;
        }
        vps_storage_defaults_apply(l, d);
}
