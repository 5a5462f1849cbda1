/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.resources on cgroup v1 hierarchies (legacy hosts, and the limits
 * of hybrid hosts). Each controller writes only into its own hierarchy. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

static int hier_fd(struct berth_cgroup *cg, enum cg_ctrl c, const char *what, struct berth_err *err)
{
        struct cg_hier *h = cg_v1(cg, c);
        if (!h)
                return berth_err_set(err, ENODEV,
                                     "%s: the container has no v1 %s cgroup (a hybrid host joins a v1 "
                                     "hierarchy only when create sets a limit in it)",
                                     what, cg_ctrl_name(c));
        return cg_hier_fd(h, err);
}

/* memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at every
 * step, so the order of the two writes depends on the direction. */
static int memory_limits(int fd, const struct berth_memory *m, struct berth_err *err)
{
        bool memsw = cg_exists(fd, "memory.memsw.limit_in_bytes");
        if (m->swap.set && !memsw && m->swap.v != -1 && !(m->limit.set && m->swap.v == m->limit.v))
                return berth_err_set(err, ENOENT,
                                     "memory.swap: memory.memsw.limit_in_bytes does not exist "
                                     "(swap accounting is off)");
        bool do_swap = m->swap.set && memsw;
        if (!m->limit.set)
                return do_swap ? cg_writef(fd, "memory.memsw.limit_in_bytes", "memory.swap", err, "%" PRId64,
                                           m->swap.v)
                               : 0;
        if (!do_swap)
                return cg_writef(fd, "memory.limit_in_bytes", "memory.limit", err, "%" PRId64, m->limit.v);
        struct berth_err tmp = {0};
        if (m->swap.v != -1 &&
            cg_writef(fd, "memory.limit_in_bytes", "memory.limit", &tmp, "%" PRId64, m->limit.v) == 0)
                return cg_writef(fd, "memory.memsw.limit_in_bytes", "memory.swap", err, "%" PRId64,
                                 m->swap.v);
        int r = cg_writef(fd, "memory.memsw.limit_in_bytes", "memory.swap", err, "%" PRId64, m->swap.v);
        if (r < 0)
                return r;
        return cg_writef(fd, "memory.limit_in_bytes", "memory.limit", err, "%" PRId64, m->limit.v);
}

static int apply_memory(struct berth_cgroup *cg, const struct berth_memory *m, struct berth_err *err)
{
        if (!m->limit.set && !m->swap.set && !m->reservation.set && !m->swappiness.set &&
            !m->has_disable_oom_killer)
                return 0;
        int fd = hier_fd(cg, CG_MEMORY, "memory", err);
        int r;
        if (fd < 0 || (r = memory_limits(fd, m, err)) < 0)
                return fd < 0 ? fd : r;
        if (m->reservation.set && (r = cg_writef(fd, "memory.soft_limit_in_bytes", "memory.reservation", err,
                                                 "%" PRId64, m->reservation.v)) < 0)
                return r;
        if (m->swappiness.set && (r = cg_writef(fd, "memory.swappiness", "memory.swappiness", err, "%" PRIu64,
                                                m->swappiness.v)) < 0)
                return r;
        if (m->has_disable_oom_killer &&
            (r = cg_write(fd, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                          "memory.disableOOMKiller", err)) < 0)
                return r;
        return 0;
}

/* memory.kernelTCP: the v1 file exists on kernels that still account TCP
 * buffers per cgroup (crun sets it there); where it is gone, a warning. */
static int apply_kernel_tcp(struct berth_cgroup *cg, const struct berth_memory *m, struct berth_err *err)
{
        if (!m->kernel_tcp.set)
                return 0;
        int fd = hier_fd(cg, CG_MEMORY, "memory.kernelTCP", err);
        if (fd < 0)
                return fd;
        if (faccessat(fd, "memory.kmem.tcp.limit_in_bytes", F_OK, 0) < 0) {
                cg_warn(cg,
                        "memory.kernelTCP is ignored (this kernel has no memory.kmem.tcp.limit_in_bytes)");
                return 0;
        }
        return cg_writef(fd, "memory.kmem.tcp.limit_in_bytes", "memory.kernelTCP", err, "%" PRId64,
                         m->kernel_tcp.v);
}

/* A period shorter than the current one is refused (EINVAL) while the
 * old quota over the new period exceeds the parent's limit: with a quota
 * to set as well, set the quota first and the period again (runc does). */
static int apply_cfs(int fd, const struct berth_cpu *c, struct berth_err *err)
{
        bool period_again = false;
        int r = 0;
        if (c->period.set) {
                r = cg_writef(fd, "cpu.cfs_period_us", "cpu.period", err, "%" PRIu64, c->period.v);
                if (r == -EINVAL && c->quota.set) {
                        berth_err_clear(err);
                        period_again = true;
                        r = 0;
                }
        }
        if (r >= 0 && c->quota.set)
                r = cg_writef(fd, "cpu.cfs_quota_us", "cpu.quota", err, "%" PRId64,
                              c->quota.v > 0 ? c->quota.v : -1);
        if (r >= 0 && period_again)
                r = cg_writef(fd, "cpu.cfs_period_us", "cpu.period", err, "%" PRIu64, c->period.v);
        return r;
}

static int apply_cpu(struct berth_cgroup *cg, const struct berth_cpu *c, struct berth_err *err)
{
        if (!c->shares.set && !c->quota.set && !c->period.set && !c->burst.set && !c->realtime_period.set &&
            !c->realtime_runtime.set && !c->idle.set)
                return 0;
        int fd = hier_fd(cg, CG_CPU, "cpu", err), r = 0;
        if (fd < 0)
                return fd;
        if (c->shares.set)
                r = cg_writef(fd, "cpu.shares", "cpu.shares", err, "%" PRIu64, c->shares.v);
        if (r >= 0)
                r = apply_cfs(fd, c, err);
        if (r >= 0 && c->burst.set)
                r = cg_writef(fd, "cpu.cfs_burst_us", "cpu.burst", err, "%" PRIu64, c->burst.v);
        if (r >= 0 && c->realtime_period.set)
                r = cg_writef(fd, "cpu.rt_period_us", "cpu.realtimePeriod", err, "%" PRIu64,
                              c->realtime_period.v);
        if (r >= 0 && c->realtime_runtime.set)
                r = cg_writef(fd, "cpu.rt_runtime_us", "cpu.realtimeRuntime", err, "%" PRId64,
                              c->realtime_runtime.v);
        if (r >= 0 && c->idle.set)
                r = cg_writef(fd, "cpu.idle", "cpu.idle", err, "%" PRId64, c->idle.v);
        return r < 0 ? r : 0;
}

static int apply_cpuset(struct berth_cgroup *cg, const struct berth_cpu *c, struct berth_err *err)
{
        if (!c->cpus && !c->mems)
                return 0;
        int fd = hier_fd(cg, CG_CPUSET, "cpu.cpus", err), r = 0;
        if (fd < 0)
                return fd;
        if (c->cpus)
                r = cg_write(fd, "cpuset.cpus", c->cpus, "cpu.cpus", err);
        if (r >= 0 && c->mems)
                r = cg_write(fd, "cpuset.mems", c->mems, "cpu.mems", err);
        return r < 0 ? r : 0;
}

static const char *const throttle_files[4] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device"};

/* CFQ had blkio.weight; since blk-mq only BFQ's blkio.bfq.weight exists. */
static const char *weight_file(int fd, bool device)
{
        if (cg_exists(fd, device ? "blkio.weight_device" : "blkio.weight"))
                return device ? "blkio.weight_device" : "blkio.weight";
        return device ? "blkio.bfq.weight_device" : "blkio.bfq.weight";
}

static int apply_blkio(struct berth_cgroup *cg, const struct berth_blkio *b, struct berth_err *err)
{
        size_t nt = b->n_throttle[0] + b->n_throttle[1] + b->n_throttle[2] + b->n_throttle[3];
        if (!b->weight.set && !b->leaf_weight.set && !b->n_weight_devices && !nt)
                return 0;
        int fd = hier_fd(cg, CG_BLKIO, "blockIO", err), r = 0;
        if (fd < 0)
                return fd;
        if (b->weight.set)
                r = cg_writef(fd, weight_file(fd, false), "blockIO.weight", err, "%" PRIu64, b->weight.v);
        if (r >= 0 && b->leaf_weight.set)
                r = cg_writef(fd, "blkio.leaf_weight", "blockIO.leafWeight", err, "%" PRIu64,
                              b->leaf_weight.v);
        for (size_t i = 0; r >= 0 && i < b->n_weight_devices; i++) {
                const struct berth_weight_device *w = &b->weight_devices[i];
                if (w->weight.set)
                        r = cg_writef(fd, weight_file(fd, true), "blockIO.weightDevice", err,
                                      "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor, w->weight.v);
                if (r >= 0 && w->leaf_weight.set)
                        r = cg_writef(fd, "blkio.leaf_weight_device", "blockIO.weightDevice.leafWeight", err,
                                      "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
                                      w->leaf_weight.v);
        }
        for (int k = 0; k < 4; k++)
                for (size_t i = 0; r >= 0 && i < b->n_throttle[k]; i++) {
                        const struct berth_throttle_device *t = &b->throttle[k][i];
                        r = cg_writef(fd, throttle_files[k], "blockIO.throttle", err,
                                      "%" PRId64 ":%" PRId64 " %" PRIu64, t->major, t->minor, t->rate);
                }
        return r < 0 ? r : 0;
}

static int apply_hugetlb(struct berth_cgroup *cg, const struct berth_resources *res, struct berth_err *err)
{
        if (!res->n_hugepages)
                return 0;
        int fd = hier_fd(cg, CG_HUGETLB, "hugepageLimits", err);
        for (size_t i = 0; fd >= 0 && i < res->n_hugepages; i++) {
                char size[32], file[64];
                if (cg_hugepage_size(res->hugepages[i].page_size, size, sizeof(size)) < 0)
                        return berth_err_set(err, EINVAL, "hugepageLimits: bad pageSize '%s'",
                                             res->hugepages[i].page_size);
                snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", size);
                int r = cg_writef(fd, file, "hugepageLimits", err, "%" PRIu64, res->hugepages[i].limit);
                if (r < 0)
                        return r;
        }
        return fd < 0 ? fd : 0;
}

static int apply_network(struct berth_cgroup *cg, const struct berth_resources *res, struct berth_err *err)
{
        int r = 0;
        if (res->net_class_id.set) {
                int fd = hier_fd(cg, CG_NET_CLS, "network.classID", err);
                r = fd < 0 ? fd
                           : cg_writef(fd, "net_cls.classid", "network.classID", err, "%" PRIu64,
                                       res->net_class_id.v);
        }
        if (r >= 0 && res->n_net_prios) {
                int fd = hier_fd(cg, CG_NET_PRIO, "network.priorities", err);
                for (size_t i = 0; fd >= 0 && r >= 0 && i < res->n_net_prios; i++)
                        r = cg_writef(fd, "net_prio.ifpriomap", "network.priorities", err, "%s %" PRIu32,
                                      res->net_prios[i].name, res->net_prios[i].priority);
                if (fd < 0)
                        r = fd;
        }
        return r < 0 ? r : 0;
}

static void warn_common(struct berth_cgroup *cg, const struct berth_resources *res)
{
        if (res->memory.kernel.set)
                cg_warn(cg, "memory.kernel is ignored (deprecated; the kernel no longer limits kernel memory "
                            "separately)");
        if (res->memory.has_use_hierarchy && !res->memory.use_hierarchy)
                cg_warn(cg, "memory.useHierarchy=false is ignored (the kernel always uses the hierarchy)");
}

int cg_v1_apply(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                struct berth_err *err)
{
        if (!res)
                return 0;
        if (res->n_unified && cg->layout == BERTH_CG_LEGACY)
                return berth_err_set(err, EOPNOTSUPP,
                                     "unified: raw cgroup v2 keys need cgroup v2 (this host "
                                     "has only v1)");
        warn_common(cg, res);
        int r;
        if ((r = apply_memory(cg, &res->memory, err)) < 0 ||
            (r = apply_kernel_tcp(cg, &res->memory, err)) < 0 || (r = apply_cpu(cg, &res->cpu, err)) < 0 ||
            (r = apply_cpuset(cg, &res->cpu, err)) < 0)
                return r;
        if (res->pids_limit.set) {
                int fd = hier_fd(cg, CG_PIDS, "pids", err);
                if (fd < 0)
                        return fd;
                char v[32];
                cg_fmt_limit(res->pids_limit.v > 0 ? res->pids_limit.v : -1, v, sizeof(v));
                if ((r = cg_write(fd, "pids.max", v, "pids.limit", err)) < 0)
                        return r;
        }
        if ((r = apply_blkio(cg, &res->blkio, err)) < 0 || (r = apply_hugetlb(cg, res, err)) < 0)
                return r;
        return apply_network(cg, res, err);
}
