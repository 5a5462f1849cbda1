/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.resources (LinuxResources): device rules, memory, cpu, pids, blockIO,
 * hugepages, network, unified. Used inside config.json and, alone, for
 * `update --resources FILE`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "runtime/spec/internal.h"

static int require(int r, const char *parent, const char *key, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];

        if (r != 0)
                return r;
        spec_path_key(path, parent, key);
        return spec_fail(err, path, "missing required field");
}

/* Device rule major/minor: -1 (or absent) is the wildcard "*". */
static int parse_dev_number(json_t *v, const char *parent, const char *key, int64_t *out,
                            struct berth_err *err)
{
        *out = -1;
        int r = spec_get_int(v, parent, key, -1, INT64_MAX, out, err);
        return r < 0 ? r : 0;
}

static int parse_device_rule(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        struct berth_device_rule *d = elem;
        char fpath[SPEC_PATH_MAX];
        _cleanup_free_ char *type = NULL, *access = NULL;
        int r;

        if ((r = require(spec_get_bool(v, path, "allow", &d->allow, err), path, "allow", err)) < 0)
                return r;
        spec_path_key(fpath, path, "type");
        d->type = 'a';
        if ((r = spec_get_string(v, path, "type", &type, err)) < 0)
                return r;
        if (type && type[0] && (strlen(type) != 1 || !strchr("acb", type[0])))
                return spec_fail(err, fpath, "unknown device type \"%s\" (expected a, c or b)", type);
        if (type && type[0])
                d->type = type[0];
        if ((r = parse_dev_number(v, path, "major", &d->major, err)) < 0 ||
            (r = parse_dev_number(v, path, "minor", &d->minor, err)) < 0)
                return r;
        spec_path_key(fpath, path, "access");
        if ((r = spec_get_string(v, path, "access", &access, err)) < 0)
                return r;
        if (!access || !access[0]) {
                strcpy(d->access, "rwm");
                return 0;
        }
        /* Other letters are ignored, as runc does (its own test suite
         * writes "rwa"); a rule with none of r, w, m means nothing. */
        size_t n = 0;
        for (const char *c = "rwm"; *c; c++)
                if (strchr(access, *c))
                        d->access[n++] = *c;
        d->access[n] = '\0';
        if (n == 0)
                return spec_fail(err, fpath, "invalid access \"%s\" (expected letters from \"rwm\")", access);
        return 0;
}

/* Docker once sent -1 as a uint64 (2^64-1) for "unset"; runc skips it, so
 * do we. Anything else must be a percentage. */
static int spec_get_swappiness(json_t *mem, const char *parent, struct berth_opt_u64 *out,
                               struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        int r = spec_get_opt_u64(mem, parent, "swappiness", out, err);

        if (r <= 0)
                return r;
        if (out->v == UINT64_MAX) {
                out->set = false;
                return 0;
        }
        spec_path_key(path, parent, "swappiness");
        if (out->v > 100)
                return spec_fail(err, path, "%llu out of range [0, 100]", (unsigned long long)out->v);
        return 0;
}

static int parse_memory(json_t *res, const char *parent, struct berth_resources *r, struct berth_err *err)
{
        static const char *const keys[] = {"limit", "reservation", "swap", "kernel", "kernelTCP"};
        struct berth_memory *m = &r->memory;
        struct berth_opt_i64 *fields[] = {&m->limit, &m->reservation, &m->swap, &m->kernel, &m->kernel_tcp};
        char path[SPEC_PATH_MAX];
        json_t *mem;
        int rc = spec_get_object(res, parent, "memory", &mem, err);

        if (rc <= 0)
                return rc;
        r->has_memory = true;
        spec_path_key(path, parent, "memory");
        /* -1 means unlimited; anything lower is a mistake. */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                if ((rc = spec_get_opt_i64(mem, path, keys[i], -1, fields[i], err)) < 0)
                        return rc;
        if ((rc = spec_get_swappiness(mem, path, &m->swappiness, err)) < 0)
                return rc;
        if ((rc = spec_get_bool(mem, path, "disableOOMKiller", &m->disable_oom_killer, err)) < 0)
                return rc;
        m->has_disable_oom_killer = rc > 0;
        if ((rc = spec_get_bool(mem, path, "useHierarchy", &m->use_hierarchy, err)) < 0)
                return rc;
        m->has_use_hierarchy = rc > 0;
        if ((rc = spec_get_bool(mem, path, "checkBeforeUpdate", &m->check_before_update, err)) < 0)
                return rc;
        m->has_check_before_update = rc > 0;
        return 0;
}

/* cpuset lists: "0-3,8", also the kernel's "0-15:2/4" stride form. */
static int get_cpu_list(json_t *cpu, const char *parent, const char *key, char **out, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        int r = spec_get_string(cpu, parent, key, out, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, key);
        if (strspn(*out, "0123456789,-:/") != strlen(*out))
                return spec_fail(err, path, "invalid list \"%s\"", *out);
        return 0;
}

static int parse_cpu(json_t *res, const char *parent, struct berth_resources *r, struct berth_err *err)
{
        struct berth_cpu *c = &r->cpu;
        char path[SPEC_PATH_MAX];
        json_t *cpu;
        int rc = spec_get_object(res, parent, "cpu", &cpu, err);

        if (rc <= 0)
                return rc;
        r->has_cpu = true;
        spec_path_key(path, parent, "cpu");
        if ((rc = spec_get_opt_u64(cpu, path, "shares", &c->shares, err)) < 0 ||
            (rc = spec_get_opt_u64(cpu, path, "period", &c->period, err)) < 0 ||
            (rc = spec_get_opt_u64(cpu, path, "realtimePeriod", &c->realtime_period, err)) < 0 ||
            (rc = spec_get_opt_u64(cpu, path, "burst", &c->burst, err)) < 0 ||
            (rc = spec_get_opt_i64(cpu, path, "quota", -1, &c->quota, err)) < 0 ||
            (rc = spec_get_opt_i64(cpu, path, "realtimeRuntime", -1, &c->realtime_runtime, err)) < 0 ||
            (rc = spec_get_opt_i64(cpu, path, "idle", INT64_MIN, &c->idle, err)) < 0 ||
            (rc = get_cpu_list(cpu, path, "cpus", &c->cpus, err)) < 0 ||
            (rc = get_cpu_list(cpu, path, "mems", &c->mems, err)) < 0)
                return rc;
        return 0;
}

static int parse_pids(json_t *res, const char *parent, struct berth_resources *r, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *pids;
        int rc = spec_get_object(res, parent, "pids", &pids, err);

        if (rc <= 0)
                return rc;
        r->has_pids = true;
        spec_path_key(path, parent, "pids");
        /* 0 and -1 both mean "no limit" (runtime-spec 1.2). */
        rc = spec_get_opt_i64(pids, path, "limit", -1, &r->pids_limit, err);
        return rc < 0 ? rc : 0;
}

static int parse_weight(json_t *v, const char *parent, const char *key, struct berth_opt_u64 *out,
                        struct berth_err *err)
{
        int64_t w;
        int r = spec_get_int(v, parent, key, 0, UINT16_MAX, &w, err);

        out->set = r > 0;
        out->v = r > 0 ? (uint64_t)w : 0;
        return r < 0 ? r : 0;
}

static int parse_major_minor(json_t *v, const char *path, int64_t *major, int64_t *minor,
                             struct berth_err *err)
{
        int r;

        if ((r = require(spec_get_int(v, path, "major", 0, INT64_MAX, major, err), path, "major", err)) < 0 ||
            (r = require(spec_get_int(v, path, "minor", 0, INT64_MAX, minor, err), path, "minor", err)) < 0)
                return r;
        return 0;
}

static int parse_weight_device(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        struct berth_weight_device *d = elem;
        int r;

        if ((r = parse_major_minor(v, path, &d->major, &d->minor, err)) < 0 ||
            (r = parse_weight(v, path, "weight", &d->weight, err)) < 0 ||
            (r = parse_weight(v, path, "leafWeight", &d->leaf_weight, err)) < 0)
                return r;
        return 0;
}

static int parse_throttle_device(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        struct berth_throttle_device *d = elem;
        int r;

        if ((r = parse_major_minor(v, path, &d->major, &d->minor, err)) < 0)
                return r;
        return require(spec_get_u64(v, path, "rate", &d->rate, err), path, "rate", err) < 0 ? -EINVAL : 0;
}

static int parse_blkio(json_t *res, const char *parent, struct berth_resources *r, struct berth_err *err)
{
        static const char *const throttle_keys[] = {
            [BERTH_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
            [BERTH_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
            [BERTH_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
            [BERTH_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
        };
        struct berth_blkio *b = &r->blkio;
        char path[SPEC_PATH_MAX];
        json_t *bio;
        int rc = spec_get_object(res, parent, "blockIO", &bio, err);

        if (rc <= 0)
                return rc;
        r->has_blkio = true;
        spec_path_key(path, parent, "blockIO");
        if ((rc = parse_weight(bio, path, "weight", &b->weight, err)) < 0 ||
            (rc = parse_weight(bio, path, "leafWeight", &b->leaf_weight, err)) < 0 ||
            (rc = SPEC_GET_OBJECTS(bio, path, "weightDevice", b->weight_devices, &b->n_weight_devices,
                                   parse_weight_device, err)) < 0)
                return rc;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(throttle_keys); i++)
                if ((rc = SPEC_GET_OBJECTS(bio, path, throttle_keys[i], b->throttle[i], &b->n_throttle[i],
                                           parse_throttle_device, err)) < 0)
                        return rc;
        return 0;
}

static int parse_hugepage(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        struct berth_hugepage_limit *h = elem;
        char fpath[SPEC_PATH_MAX];
        int r;

        if ((r = require(spec_get_string(v, path, "pageSize", &h->page_size, err), path, "pageSize", err)) <
            0)
                return r;
        /* It names a cgroup file (hugetlb.<size>.limit_in_bytes). */
        spec_path_key(fpath, path, "pageSize");
        if (!h->page_size[0] || strspn(h->page_size, "0123456789KMGBkmgb") != strlen(h->page_size))
                return spec_fail(err, fpath, "invalid page size \"%s\"", h->page_size);
        return require(spec_get_u64(v, path, "limit", &h->limit, err), path, "limit", err) < 0 ? -EINVAL : 0;
}

static int parse_net_prio(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        struct berth_net_prio *p = elem;
        int r;

        if ((r = require(spec_get_string(v, path, "name", &p->name, err), path, "name", err)) < 0 ||
            (r = require(spec_get_u32(v, path, "priority", &p->priority, err), path, "priority", err)) < 0)
                return r;
        return 0;
}

static int parse_network(json_t *res, const char *parent, struct berth_resources *r, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *net;
        uint32_t id;
        int rc = spec_get_object(res, parent, "network", &net, err);

        if (rc <= 0)
                return rc;
        r->has_network = true;
        spec_path_key(path, parent, "network");
        if ((rc = spec_get_u32(net, path, "classID", &id, err)) < 0)
                return rc;
        r->net_class_id.set = rc > 0;
        r->net_class_id.v = rc > 0 ? id : 0;
        rc = SPEC_GET_OBJECTS(net, path, "priorities", r->net_prios, &r->n_net_prios, parse_net_prio, err);
        return rc < 0 ? rc : 0;
}

/* Unified keys are cgroup file names; a '/' or ".." would leave the cgroup. */
static int parse_unified(json_t *res, const char *parent, struct berth_resources *r, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], kpath[SPEC_PATH_MAX];
        int rc = spec_get_string_map(res, parent, "unified", &r->unified, &r->n_unified, err);

        if (rc <= 0)
                return rc;
        spec_path_key(path, parent, "unified");
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *k = r->unified[i].key;
                spec_path_key(kpath, path, k);
                if (!k[0] || strchr(k, '/') || strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
                        return spec_fail(err, kpath, "must be a cgroup file name");
        }
        return 0;
}

int spec_parse_resources(json_t *obj, const char *path, struct berth_resources *r, struct berth_err *err)
{
        int rc;

        if (spec_value_object(obj, path, err) < 0)
                return -EINVAL;
        if ((rc = SPEC_GET_OBJECTS(obj, path, "devices", r->devices, &r->n_devices, parse_device_rule, err)) <
                0 ||
            (rc = parse_memory(obj, path, r, err)) < 0 || (rc = parse_cpu(obj, path, r, err)) < 0 ||
            (rc = parse_pids(obj, path, r, err)) < 0 || (rc = parse_blkio(obj, path, r, err)) < 0 ||
            (rc = SPEC_GET_OBJECTS(obj, path, "hugepageLimits", r->hugepages, &r->n_hugepages, parse_hugepage,
                                   err)) < 0 ||
            (rc = parse_network(obj, path, r, err)) < 0 || (rc = parse_unified(obj, path, r, err)) < 0)
                return rc;
        return 0;
}

void spec_resources_clear(struct berth_resources *r)
{
        free(r->devices);
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->blkio.weight_devices);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(r->blkio.throttle); i++)
                free(r->blkio.throttle[i]);
        for (size_t i = 0; i < r->n_hugepages; i++)
                free(r->hugepages[i].page_size);
        free(r->hugepages);
        for (size_t i = 0; i < r->n_net_prios; i++)
                free(r->net_prios[i].name);
        free(r->net_prios);
        spec_key_values_free(r->unified, r->n_unified);
        memset(r, 0, sizeof(*r));
}

struct berth_resources *berth_resources_parse(const char *json, size_t len, struct berth_err *err)
{
        _cleanup_json_ json_t *doc = spec_load_json(json, len, err);
        struct berth_resources *r;

        if (!doc)
                return NULL;
        r = calloc(1, sizeof(*r));
        if (!r) {
                berth_err_set(err, ENOMEM, "out of memory");
                return NULL;
        }
        int rc = spec_parse_resources(doc, "resources", r, err);
        if (rc < 0) {
                berth_resources_free(r);
                return NULL;
        }
        return r;
}

void berth_resources_free(struct berth_resources *r)
{
        if (!r)
                return;
        spec_resources_clear(r);
        free(r);
}
