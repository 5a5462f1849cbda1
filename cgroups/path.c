/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the container's cgroup goes in each hierarchy, and which v1
 * hierarchies it has to join at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

/* Appends the components of src to dst (which holds a normalized path),
 * dropping empty and "." components; ".." is refused because a relative
 * cgroupsPath must not climb out of the caller's cgroup. */
static int append_components(char *dst, size_t cap, const char *src)
{
        size_t len = strlen(dst);
        for (const char *p = src; *p;) {
                while (*p == '/')
                        p++;
                const char *e = strchrnul(p, '/');
                size_t cl = (size_t)(e - p);
                if (cl == 0)
                        break;
                if (cl == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (!(cl == 1 && p[0] == '.')) {
                        if (len + 1 + cl + 1 > cap)
                                return -ENAMETOOLONG;
                        if (len == 0 || dst[len - 1] != '/')
                                dst[len++] = '/';
                        memcpy(dst + len, p, cl);
                        len += cl;
                        dst[len] = '\0';
                }
                p = e;
        }
        return 0;
}

char *cg_resolve_path(const char *own, const char *cgroups_path, const char *id, struct berth_err *err)
{
        char buf[4096] = "/";
        int r = 0;
        if (cgroups_path && cgroups_path[0] == '/') {
                r = append_components(buf, sizeof(buf), cgroups_path);
        } else {
                /* own comes from /proc/self/cgroup: trust its shape but
                 * normalize it all the same. */
                if (own && (r = append_components(buf, sizeof(buf), own)) < 0)
                        return berth_err_set(err, -r, "own cgroup path '%s' is not usable", own), NULL;
                if (cgroups_path) {
                        r = append_components(buf, sizeof(buf), cgroups_path);
                } else {
                        if (!id || !id[0] || strchr(id, '/') || strcmp(id, "..") == 0 || strcmp(id, ".") == 0)
                                return berth_err_set(err, EINVAL,
                                                     "cgroup: invalid container id for a cgroup name"),
                                       NULL;
                        r = append_components(buf, sizeof(buf), "berth");
                        if (r == 0)
                                r = append_components(buf, sizeof(buf), id);
                }
        }
        if (r < 0)
                return berth_err_set(err, -r, "cgroupsPath '%s': %s", cgroups_path ? cgroups_path : "",
                                     r == -EINVAL ? "'..' is not allowed" : "too long"),
                       NULL;
        if (strcmp(buf, "/") == 0)
                return berth_err_set(err, EINVAL, "cgroupsPath '%s' names the root cgroup",
                                     cgroups_path ? cgroups_path : ""),
                       NULL;
        char *out = strdup(buf);
        if (!out)
                berth_err_sys(err, ENOMEM, "cgroup path");
        return out;
}

char *cg_fs_dir(const char *mountpoint, const char *root, const char *path, struct berth_err *err)
{
        const char *rest = path;
        if (root && strcmp(root, "/") != 0) {
                size_t rl = strlen(root);
                if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
                        return berth_err_set(err, ENOENT,
                                             "cgroup %s is outside the part of the hierarchy "
                                             "mounted at %s (%s)",
                                             path, mountpoint, root),
                               NULL;
                rest = path + rl;
        }
        char *out = NULL;
        if (asprintf(&out, "%s%s", mountpoint, rest) < 0)
                return berth_err_sys(err, ENOMEM, "cgroup path"), NULL;
        return out;
}

static bool cpu_needs_cpu(const struct berth_cpu *c)
{
        return c->shares.set || c->quota.set || c->period.set || c->burst.set || c->realtime_runtime.set ||
               c->realtime_period.set || c->idle.set;
}

static bool memory_set(const struct berth_memory *m)
{
        return m->limit.set || m->reservation.set || m->swap.set || m->swappiness.set ||
               m->has_disable_oom_killer;
}

static bool blkio_set(const struct berth_blkio *b)
{
        size_t n = b->n_weight_devices;
        for (int i = 0; i < 4; i++)
                n += b->n_throttle[i];
        return b->weight.set || b->leaf_weight.set || n > 0;
}

unsigned cg_needed_v1(const struct berth_resources *r, enum berth_cgroup_layout layout)
{
        unsigned mask = 0;
        /* Without a unified mirror, v1 is all there is: freezer for pause
         * and kill, devices for the allowlist, and the accounting
         * controllers so that stats work. */
        if (layout == BERTH_CG_LEGACY)
                mask |= CG_BIT(CG_FREEZER) | CG_BIT(CG_DEVICES) | CG_BIT(CG_CPUACCT) | CG_BIT(CG_MEMORY) |
                        CG_BIT(CG_PIDS);
        if (!r)
                return mask;
        if (memory_set(&r->memory))
                mask |= CG_BIT(CG_MEMORY);
        if (cpu_needs_cpu(&r->cpu))
                mask |= CG_BIT(CG_CPU);
        if (r->cpu.cpus || r->cpu.mems)
                mask |= CG_BIT(CG_CPUSET);
        if (r->pids_limit.set)
                mask |= CG_BIT(CG_PIDS);
        if (blkio_set(&r->blkio))
                mask |= CG_BIT(CG_BLKIO);
        if (r->n_hugepages)
                mask |= CG_BIT(CG_HUGETLB);
        if (r->net_class_id.set)
                mask |= CG_BIT(CG_NET_CLS);
        if (r->n_net_prios)
                mask |= CG_BIT(CG_NET_PRIO);
        return mask;
}
