/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.resources on cgroup v2. On a hybrid host only the raw `unified`
 * keys go here (to the cgroup2 mirror, which has no controllers). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/cpu_weight.h"
#include "cgroups/internal.h"

static int apply_memory(struct berth_cgroup *cg, int fd, const struct berth_memory *m, struct berth_err *err)
{
        char v[32];
        int r = 0;
        int64_t swap;
        bool swap_max;
        int has_swap = cg_swap_v2(m, &swap, &swap_max, err);
        if (has_swap < 0)
                return has_swap;
        if (m->limit.set) {
                cg_fmt_limit(m->limit.v, v, sizeof(v));
                r = cg_write(fd, "memory.max", v, "memory.limit", err);
        }
        if (r >= 0 && has_swap) {
                cg_fmt_limit(swap_max ? -1 : swap, v, sizeof(v));
                r = cg_write(fd, "memory.swap.max", v, "memory.swap", err);
        }
        if (r >= 0 && m->reservation.set) {
                cg_fmt_limit(m->reservation.v, v, sizeof(v));
                r = cg_write(fd, "memory.low", v, "memory.reservation", err);
        }
        if (m->swappiness.set)
                cg_warn(cg, "memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness");
        if (m->has_disable_oom_killer && m->disable_oom_killer)
                cg_warn(cg, "memory.disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer");
        return r < 0 ? r : 0;
}

static int apply_cpu(int fd, const struct berth_cpu *c, struct berth_err *err)
{
        int r = 0;
        if (c->realtime_runtime.set || c->realtime_period.set)
                return berth_err_set(err, EOPNOTSUPP,
                                     "cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no "
                                     "realtime group scheduling");
        if (c->shares.set && c->shares.v)
                r = cg_writef(fd, "cpu.weight", "cpu.shares", err, "%" PRIu64,
                              berth_cpu_shares_to_weight(c->shares.v));
        if (r >= 0 && (c->quota.set || c->period.set)) {
                _cleanup_free_ char *cur = NULL;
                char v[64];
                if (!c->quota.set && cg_read(fd, "cpu.max", &cur, NULL) < 0)
                        cur = NULL;
                cg_cpu_max(c, cur, v, sizeof(v));
                r = cg_write(fd, "cpu.max", v, "cpu.quota/period", err);
        }
        if (r >= 0 && c->burst.set)
                r = cg_writef(fd, "cpu.max.burst", "cpu.burst", err, "%" PRIu64, c->burst.v);
        if (r >= 0 && c->idle.set)
                r = cg_writef(fd, "cpu.idle", "cpu.idle", err, "%" PRId64, c->idle.v);
        if (r >= 0 && c->cpus)
                r = cg_write(fd, "cpuset.cpus", c->cpus, "cpu.cpus", err);
        if (r >= 0 && c->mems)
                r = cg_write(fd, "cpuset.mems", c->mems, "cpu.mems", err);
        return r < 0 ? r : 0;
}

static const char *const io_max_keys[4] = {"rbps", "wbps", "riops", "wiops"};

/* BFQ's io.bfq.weight takes blkio's 10..1000 scale as is; io.weight
 * (iocost) has 1..10000 and needs the conversion. */
static int apply_io_weight(struct berth_cgroup *cg, int fd, const struct berth_blkio *b,
                           struct berth_err *err)
{
        bool bfq = cg_exists(fd, "io.bfq.weight");
        const char *file = bfq ? "io.bfq.weight" : "io.weight";
        int r = 0;
        if (b->weight.set) {
                uint64_t w = bfq ? b->weight.v : cg_blkio_to_io_weight(b->weight.v);
                r = bfq ? cg_writef(fd, file, "blockIO.weight", err, "%" PRIu64, w)
                        : cg_writef(fd, file, "blockIO.weight", err, "default %" PRIu64, w);
        }
        if (b->leaf_weight.set)
                cg_warn(cg, "blockIO.leafWeight is ignored: cgroup v2 has no leaf weight");
        for (size_t i = 0; r >= 0 && i < b->n_weight_devices; i++) {
                const struct berth_weight_device *d = &b->weight_devices[i];
                if (!d->weight.set)
                        continue;
                uint64_t w = bfq ? d->weight.v : cg_blkio_to_io_weight(d->weight.v);
                r = cg_writef(fd, file, "blockIO.weightDevice", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                              d->major, d->minor, w);
        }
        return r < 0 ? r : 0;
}

static int apply_io(struct berth_cgroup *cg, int fd, const struct berth_blkio *b, struct berth_err *err)
{
        int r = apply_io_weight(cg, fd, b, err);
        for (int k = 0; r >= 0 && k < 4; k++)
                for (size_t i = 0; r >= 0 && i < b->n_throttle[k]; i++) {
                        const struct berth_throttle_device *t = &b->throttle[k][i];
                        char v[32];
                        cg_fmt_limit(t->rate ? (int64_t)t->rate : -1, v, sizeof(v));
                        r = cg_writef(fd, "io.max", "blockIO.throttle", err, "%" PRId64 ":%" PRId64 " %s=%s",
                                      t->major, t->minor, io_max_keys[k], v);
                }
        return r < 0 ? r : 0;
}

static int apply_misc(int fd, const struct berth_resources *res, struct berth_err *err)
{
        int r = 0;
        if (res->pids_limit.set) {
                char v[32];
                cg_fmt_limit(res->pids_limit.v > 0 ? res->pids_limit.v : -1, v, sizeof(v));
                r = cg_write(fd, "pids.max", v, "pids.limit", err);
        }
        for (size_t i = 0; r >= 0 && i < res->n_hugepages; i++) {
                char size[32], file[64];
                if (cg_hugepage_size(res->hugepages[i].page_size, size, sizeof(size)) < 0)
                        return berth_err_set(err, EINVAL, "hugepageLimits: bad pageSize '%s'",
                                             res->hugepages[i].page_size);
                snprintf(file, sizeof(file), "hugetlb.%s.max", size);
                r = cg_writef(fd, file, "hugepageLimits", err, "%" PRIu64, res->hugepages[i].limit);
        }
        if (r >= 0 && res->net_class_id.set)
                return berth_err_set(err, EOPNOTSUPP,
                                     "network.classID: the net_cls controller does not exist on "
                                     "cgroup v2");
        if (r >= 0 && res->n_net_prios)
                return berth_err_set(err, EOPNOTSUPP,
                                     "network.priorities: the net_prio controller does not "
                                     "exist on cgroup v2");
        return r < 0 ? r : 0;
}

/* Raw keys are file names in the container's cgroup: no paths. */
static int apply_unified(struct berth_cgroup *cg, int fd, const struct berth_resources *res,
                         struct berth_err *err)
{
        for (size_t i = 0; i < res->n_unified; i++) {
                const struct berth_key_value *kv = &res->unified[i];
                if (!kv->key[0] || strchr(kv->key, '/') || kv->key[0] == '.')
                        return berth_err_set(err, EINVAL, "unified: invalid key '%s'", kv->key);
                char what[128];
                snprintf(what, sizeof(what), "unified.%s", kv->key);
                int r = cg_write(fd, kv->key, kv->value, what, err);
                if (r == -ENOENT && cg->layout == BERTH_CG_HYBRID)
                        return berth_err_set(
                            err, ENOENT,
                            "invalid configuration: %s: no such file in the cgroup2 mirror of this hybrid "
                            "host (its controllers are on v1)",
                            what);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cg_v2_apply(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                struct berth_err *err)
{
        struct cg_hier *h = cg_unified(cg);
        if (!res || !h)
                return 0;
        int fd = cg_hier_fd(h, err), r;
        if (fd < 0)
                return fd;
        if (cg->layout == BERTH_CG_UNIFIED) {
                if (res->memory.kernel.set || res->memory.kernel_tcp.set)
                        cg_warn(
                            cg,
                            "memory.kernel and memory.kernelTCP are ignored (no such limit on cgroup v2)");
                if ((r = apply_memory(cg, fd, &res->memory, err)) < 0 ||
                    (r = apply_cpu(fd, &res->cpu, err)) < 0 || (r = apply_io(cg, fd, &res->blkio, err)) < 0 ||
                    (r = apply_misc(fd, res, err)) < 0)
                        return r;
        }
        return apply_unified(cg, fd, res, err);
}
