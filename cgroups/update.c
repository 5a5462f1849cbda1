/* SPDX-License-Identifier: GPL-2.0-or-later */
/* update: new limits on a running container. */
#include <errno.h>
#include <inttypes.h>

#include "cgroups/internal.h"

/* memory.checkBeforeUpdate: refuse a limit below what is in use now,
 * instead of letting the kernel reclaim or OOM-kill to get there. */
static int check_memory(struct berth_cgroup *cg, const struct berth_memory *m, struct berth_err *err)
{
        if (!m->has_check_before_update || !m->check_before_update || !m->limit.set || m->limit.v < 0)
                return 0;
        struct cg_hier *h = cg->layout == BERTH_CG_UNIFIED ? cg_unified(cg) : cg_v1(cg, CG_MEMORY);
        if (!h)
                return berth_err_set(err, ENODEV,
                                     "memory.checkBeforeUpdate: the container has no memory cgroup");
        int fd = cg_hier_fd(h, err);
        if (fd < 0)
                return fd;
        uint64_t cur;
        const char *file = h->unified ? "memory.current" : "memory.usage_in_bytes";
        int r = cg_read_u64(fd, file, &cur, err);
        if (r < 0)
                return r;
        if ((uint64_t)m->limit.v < cur)
                return berth_err_set(err, EBUSY,
                                     "memory.limit: %" PRId64 " is below the current usage %" PRIu64
                                     " (checkBeforeUpdate)",
                                     m->limit.v, cur);
        return 0;
}

int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_resources *r, struct berth_err *err)
{
        if (!r)
                return 0;
        int rc = check_memory(cg, &r->memory, err);
        if (rc >= 0 && r->n_devices)
                rc = cg_update_devices(cg, r, err);
        if (rc >= 0 && cg->layout != BERTH_CG_UNIFIED) {
                /* Only the hierarchies joined at create time are there. */
                rc = cg_v1_apply(cg, r, true, err);
        }
        if (rc >= 0 && cg->layout != BERTH_CG_LEGACY)
                rc = cg_v2_apply(cg, r, true, err);
        return rc < 0 ? berth_err_wrap(err, "update cgroup %s", berth_cgroup_path(cg)) : 0;
}
