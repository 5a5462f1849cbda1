/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps status: whether a VPS runs, and its usage. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/vps.h"
#include "berth/vps_snapshot.h"
#include "runtime/vps/internal.h"

/* The whole VPS's usage: its top level where it has one (guest and
 * console keeper, see cgroup.c), else the container's cgroup. Of the
 * limit hits, memory.events is hierarchical, but pids.events counts a
 * refused fork only in the forking task's own cgroup (before Linux 6.12):
 * the guest's, not the top level. */
static int usage(const struct berth_vps_ctx *v, const char *name, const char *cgroup_dump,
                 struct berth_cgroup_stats *st, struct berth_err *err)
{
        if (!cgroup_dump)
                return berth_err_set(err, ENOENT, "the container has no cgroup");
        struct berth_cgroup *cg = berth_cgroup_restore(cgroup_dump, err), *top = NULL;
        if (!cg)
                return -err->code;
        int r = vps_cgroup_top(v, name, cg, &top, err);
        if (r >= 0)
                r = berth_cgroup_stats(top ? top : cg, st, err);
        struct berth_cgroup_stats guest = {0};
        if (r >= 0 && top && (r = berth_cgroup_stats(cg, &guest, err)) >= 0)
                st->pids.ev_max += guest.pids.ev_max;
        if (r >= 0)
                vps_trace(v, "VPS %s: usage from %s", name, berth_cgroup_path(top ? top : cg));
        berth_cgroup_free(top);
        berth_cgroup_free(cg);
        return r;
}

static int status_get(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                      struct berth_err *err);

/* Disk usage and I/O done (runtime/vps/disk*.c): a bonus as well. */
static void disk_status(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st)
{
        struct berth_vps_config cfg;
        struct berth_err e = {0};
        if (berth_vps_config_load(v, name, &cfg, &e) < 0) {
                vps_trace(v, "VPS %s: no disk usage: %s", name, e.msg);
                return;
        }
        vps_disk_status(v, &cfg, st->pid, st);
        vps_bandwidth_status(v, &cfg, st);
        berth_vps_config_clear(&cfg);
}

int berth_vps_status_get(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                         struct berth_err *err)
{
        memset(st, 0, sizeof(*st));
        int r = status_get(v, name, st, err);
        if (r >= 0)
                disk_status(v, name, st);
        st->snapshots = berth_vps_snapshot_count(v, name);
        return r;
}

/* Whether it runs, and its init: the container's state only. */
static int run_state(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                     struct berth_container_info *info, struct berth_err *err)
{
        int r = vps_container_load(v, name, info, err);
        if (r == -ENOENT) {
                vps_trace(v, "VPS %s: no container: stopped", name);
                return 0;
        }
        if (r < 0)
                return r;
        if (info->status == BERTH_STATUS_UNKNOWN) {
                st->damaged = true;
                snprintf(st->damage, sizeof(st->damage), "%s", info->damage);
                st->running = vps_damaged_live(v, name);
                vps_trace(v, "VPS %s: container state damaged (%s)%s", name, info->damage,
                          st->running ? "; processes still run in its cgroups" : "");
                berth_container_info_clear(info);
                return 0;
        }
        st->running = info->status == BERTH_STATUS_RUNNING || info->status == BERTH_STATUS_PAUSED;
        vps_trace(v, "VPS %s: container %s, init %d", name, berth_status_name(info->status),
                  (int)info->st.pid);
        st->pid = st->running ? info->st.pid : 0;
        return 1; /* info is loaded */
}

int berth_vps_state_get(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                        struct berth_err *err)
{
        memset(st, 0, sizeof(*st));
        struct berth_container_info info;
        int r = run_state(v, name, st, &info, err);
        if (r > 0)
                berth_container_info_clear(&info);
        return r < 0 ? r : 0;
}

static int status_get(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                      struct berth_err *err)
{
        struct berth_container_info info;
        int r = run_state(v, name, st, &info, err);
        if (r <= 0)
                return r;
        struct berth_err serr = {0};
        /* Usage is a bonus: a VPS whose cgroup cannot be read is still running. */
        st->has_stats = st->running && usage(v, name, info.st.cgroup, &st->stats, &serr) >= 0;
        st->lxcfs = st->running && vps_view_lxcfs_active(st->pid);
        if (st->running && !st->has_stats)
                vps_trace(v, "VPS %s: usage unavailable: %s", name, serr.msg);
        berth_container_info_clear(&info);
        return 0;
}
