/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause, resume, update, ps and stats: a container's cgroup, found through
 * its state file. */
#include <errno.h>
#include <string.h>

#include "berth/cgroup.h"
#include "berth/container.h"
#include "berth/systemd.h"
#include "runtime/container.h"

/* Loads the container, checks it is alive, and restores its cgroup. */
static struct berth_cgroup *open_live_cgroup(const struct berth_ctx *ctx, const char *id,
                                             struct berth_container_info *info, struct berth_err *err)
{
        if (berth_container_load(ctx, id, info, err) < 0)
                return NULL;
        if (info->status == BERTH_STATUS_UNKNOWN) {
                container_damaged_err(info, "use", err);
                return NULL;
        }
        if (info->status == BERTH_STATUS_STOPPED || info->status == BERTH_STATUS_CREATING) {
                berth_err_set(err, EINVAL, "container not running: %s (%s)", id,
                              berth_status_name(info->status));
                return NULL;
        }
        if (!info->st.cgroup) {
                berth_err_set(err, ENOTSUP,
                              "container %s has no cgroup (created with --cgroup-manager disabled)", id);
                return NULL;
        }
        return berth_cgroup_restore(info->st.cgroup, err);
}

static int with_cgroup(const struct berth_ctx *ctx, const char *id, struct berth_err *err,
                       int (*fn)(struct berth_cgroup *, struct berth_container_info *, const void *,
                                 struct berth_err *),
                       const void *arg)
{
        struct berth_container_info info;
        struct berth_cgroup *cg = open_live_cgroup(ctx, id, &info, err);
        int r = cg ? fn(cg, &info, arg, err) : -err->code;
        berth_cgroup_free(cg);
        berth_container_info_clear(&info);
        return r < 0 ? berth_err_wrap(err, "container %s", id) : r;
}

static int do_pause(struct berth_cgroup *cg, struct berth_container_info *info, const void *arg,
                    struct berth_err *err)
{
        if (info->status != BERTH_STATUS_RUNNING && info->status != BERTH_STATUS_CREATED)
                return berth_err_set(err, EINVAL, "cannot pause: container is %s",
                                     berth_status_name(info->status));
        return berth_cgroup_freeze(cg, true, err);
}

static int do_resume(struct berth_cgroup *cg, struct berth_container_info *info, const void *arg,
                     struct berth_err *err)
{
        if (info->status != BERTH_STATUS_PAUSED)
                return berth_err_set(err, EINVAL, "cannot resume: container is %s, not paused",
                                     berth_status_name(info->status));
        return berth_cgroup_freeze(cg, false, err);
}

struct update_arg {
        const struct berth_ctx *ctx;
        const struct berth_resources *res;
};

/* A systemd unit's properties first (systemd rewrites the cgroup from
 * them when it realizes the unit again), then the files, as runc does.
 * Without the driver linked, the files alone, and a warning. */
static int do_update(struct berth_cgroup *cg, struct berth_container_info *info, const void *arg,
                     struct berth_err *err)
{
        const struct update_arg *a = arg;
        const char *unit = berth_systemd_unit_of_path(berth_cgroup_path(cg));
        if (info->st.systemd_cgroup && !a->ctx->systemd)
                berth_warn(a->ctx,
                           "systemd unit %s keeps its old properties: run berth with --systemd-cgroup", unit);
        else if (info->st.systemd_cgroup && a->ctx->systemd->set(unit, a->res, err) < 0)
                return -err->code;
        return berth_cgroup_update(cg, a->res, err);
}

struct pids_out {
        pid_t **pids;
        size_t *n;
};

static int do_pids(struct berth_cgroup *cg, struct berth_container_info *info, const void *arg,
                   struct berth_err *err)
{
        const struct pids_out *o = arg;
        return berth_cgroup_pids(cg, o->pids, o->n, err);
}

static int do_stats(struct berth_cgroup *cg, struct berth_container_info *info, const void *arg,
                    struct berth_err *err)
{
        return berth_cgroup_stats(cg, (struct berth_cgroup_stats *)arg, err);
}

int berth_container_pause(const struct berth_ctx *ctx, const char *id, struct berth_err *err)
{
        return with_cgroup(ctx, id, err, do_pause, NULL);
}

int berth_container_resume(const struct berth_ctx *ctx, const char *id, struct berth_err *err)
{
        return with_cgroup(ctx, id, err, do_resume, NULL);
}

int berth_container_update(const struct berth_ctx *ctx, const char *id, const struct berth_resources *r,
                           struct berth_err *err)
{
        struct update_arg a = {ctx, r};
        return with_cgroup(ctx, id, err, do_update, &a);
}

/* A stopped container has no init, but its cgroup may still hold
 * processes (no pid namespace of its own): list those, or none, as runc
 * does (`ps` then prints just its header). */
static int stopped_pids(const struct berth_container_info *info, pid_t **pids, size_t *n,
                        struct berth_err *err)
{
        *pids = NULL;
        *n = 0;
        if (!info->st.cgroup)
                return 0;
        struct berth_err cg_err = {0};
        struct berth_cgroup *cg = berth_cgroup_restore(info->st.cgroup, &cg_err);
        int r = cg ? berth_cgroup_pids(cg, pids, n, &cg_err) : -cg_err.code;
        berth_cgroup_free(cg);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                *err = cg_err;
        return r;
}

int berth_container_pids(const struct berth_ctx *ctx, const char *id, pid_t **pids, size_t *n,
                         struct berth_err *err)
{
        struct berth_container_info info;
        if (berth_container_load(ctx, id, &info, err) < 0)
                return -err->code;
        bool stopped = info.status == BERTH_STATUS_STOPPED;
        int r = stopped ? stopped_pids(&info, pids, n, err) : 0;
        berth_container_info_clear(&info);
        if (stopped)
                return r < 0 ? berth_err_wrap(err, "container %s", id) : r;
        struct pids_out o = {pids, n};
        return with_cgroup(ctx, id, err, do_pids, &o);
}

int berth_container_stats(const struct berth_ctx *ctx, const char *id, struct berth_cgroup_stats *st,
                          struct berth_err *err)
{
        memset(st, 0, sizeof(*st));
        return with_cgroup(ctx, id, err, do_stats, st);
}
