/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI container behind a VPS (berth_vps_container_id): looking it up
 * and removing it with the VPS's network. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/container.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* A container of that id whose bundle is another directory belongs to
 * someone else (another data directory's VPS of the same name, from
 * before ids named the data directory): never ours to stop or delete. */
static bool ours(const struct berth_vps_ctx *v, const char *name, const struct berth_container_info *info)
{
        char dir[PATH_MAX], real[PATH_MAX];
        /* A damaged state names no bundle: the id, which names the data
         * directory, is all there is (berth_vps_container_id gives the
         * old form only for a bundle it could read). */
        if (info->status == BERTH_STATUS_UNKNOWN && !info->st.bundle)
                return true;
        if (berth_vps_path(v, name, NULL, dir, sizeof(dir)) < 0 || !info->st.bundle)
                return false;
        return !strcmp(info->st.bundle, realpath(dir, real) ? real : dir);
}

int vps_container_load(const struct berth_vps_ctx *v, const char *name, struct berth_container_info *info,
                       struct berth_err *err)
{
        char id[BERTH_VPS_ID_MAX];
        berth_vps_container_id(v, name, id, sizeof(id));
        struct berth_err lerr = {0};
        int r = berth_container_load(v->ctx, id, info, &lerr);
        if (r == -ENOENT)
                return -ENOENT; /* no error: absence is an answer here */
        if (r < 0) {
                *err = lerr;
                return r;
        }
        if (!ours(v, name, info)) {
                berth_container_info_clear(info);
                return -ENOENT;
        }
        return 0;
}

/* The container's top level (cgroup.c), read before the delete takes the
 * state with it; NULL when it has none or it cannot be told (traced: the
 * delete then still removes the container's own levels). */
static struct berth_cgroup *cgroup_top(const struct berth_vps_ctx *v, const char *name, const char *dump)
{
        struct berth_err terr = {0};
        struct berth_cgroup *cg = dump ? berth_cgroup_restore(dump, &terr) : NULL, *top = NULL;
        if (cg && vps_cgroup_top(v, name, cg, &top, &terr) < 0)
                top = NULL;
        if (terr.code)
                vps_trace(v, "VPS %s: its top cgroup level is unknown: %s", name, terr.msg);
        berth_cgroup_free(cg);
        return top;
}

/* After the container's delete: the keeper's cgroup and the top level.
 * The keeper ends by itself once it has reaped the init and read its last
 * words; it gets a moment for that, then whatever is left is killed
 * (after a failed start the keeper still waits for its worker, the
 * caller: it is killed at the end of the moment). */
#define KEEPER_GRACE_MS 500

/* Without a top level (v1 or hybrid), the keeper shares the container's
 * cgroups, which the delete kills: once the init is gone, it gets the
 * same moment to read the guest's last words and leave them. */
static void keeper_moment(const struct berth_vps_ctx *v, const char *name, const struct berth_state *st)
{
        if (!st->cgroup || berth_state_init_alive(st))
                return;
        struct berth_err werr = {0};
        struct berth_cgroup *cg = berth_cgroup_restore(st->cgroup, &werr);
        if (cg && berth_cgroup_wait_empty(cg, KEEPER_GRACE_MS, &werr) < 0)
                vps_trace(v, "VPS %s: the console keeper is still there (%s): killed", name, werr.msg);
        berth_cgroup_free(cg);
}

static int remove_top(const struct berth_vps_ctx *v, const char *name, struct berth_cgroup *top,
                      struct berth_err *err)
{
        struct berth_err werr = {0};
        if (berth_cgroup_wait_empty(top, KEEPER_GRACE_MS, &werr) < 0)
                vps_trace(v, "VPS %s: the console keeper is still there (%s): killed", name, werr.msg);
        int r = berth_cgroup_destroy(top, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: top cgroup level %s removed", name, berth_cgroup_path(top));
        return r;
}

/* A container whose state is damaged: delete --force salvages what its
 * cgroup record names, then the VPS's cgroups found by name go too (the
 * keeper's level, or everything when the record was lost). */
static int damaged_cleanup(const struct berth_vps_ctx *v, const char *name, const char *id,
                           struct berth_err *err)
{
        int r = berth_container_delete(v->ctx, id, true, err);
        int killed = 0, removed = 0;
        if (r >= 0)
                r = vps_cgroup_salvage(v, name, &killed, &removed, err);
        if (r >= 0 && (killed > 0 || removed > 0))
                vps_warn(v,
                         "VPS %s: repaired: killed %d process%s left in its cgroups, removed them in %d "
                         "hierarch%s",
                         name, killed, killed == 1 ? "" : "es", removed, removed == 1 ? "y" : "ies");
        return r;
}

int vps_damaged_live(const struct berth_vps_ctx *v, const char *name)
{
        int dirs = 0, procs = 0;
        struct berth_err ignore = {0};
        if (vps_cgroup_probe(v, name, &dirs, &procs, &ignore) < 0)
                return 1; /* cannot tell: taken as running, nothing is killed */
        return procs > 0;
}

int vps_container_cleanup(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_err *err)
{
        char id[BERTH_VPS_ID_MAX];
        berth_vps_container_id(v, cfg->name, id, sizeof(id));
        struct berth_container_info info;
        struct berth_err lerr = {0};
        int r = 0;
        vps_trace(v, "VPS %s: removing container %s and its network", cfg->name, id);
        int lr = berth_container_load(v->ctx, id, &info, &lerr);
        if (lr == 0 && info.status == BERTH_STATUS_UNKNOWN && ours(v, cfg->name, &info)) {
                berth_container_info_clear(&info);
                r = damaged_cleanup(v, cfg->name, id, err);
        } else if (lr == 0) {
                bool mine = ours(v, cfg->name, &info);
                struct berth_cgroup *top = mine ? cgroup_top(v, cfg->name, info.st.cgroup) : NULL;
                if (mine && !top)
                        keeper_moment(v, cfg->name, &info.st);
                berth_container_info_clear(&info);
                if (mine)
                        r = berth_container_delete(v->ctx, id, true, err);
                if (r >= 0 && top)
                        r = remove_top(v, cfg->name, top, err);
                berth_cgroup_free(top);
        } else if (lr != -ENOENT) {
                /* Unreadable state: let delete report (or clean) it. */
                r = berth_container_delete(v->ctx, id, true, err);
        }
        struct berth_err net_err = {0};
        int rn = vps_net_down(v, cfg, &net_err);
        if (r >= 0 && rn < 0) {
                *err = net_err;
                r = rn;
        } else if (rn < 0) { /* the delete's error is returned; this one must not vanish */
                vps_warn(v, "%s", net_err.msg);
        }
        return r;
}

int vps_open_locked(const struct berth_vps_ctx *v, const char *name, struct berth_vps_config *cfg,
                    int *status, struct berth_err *err)
{
        int r = berth_vps_config_load(v, name, cfg, err);
        if (r < 0)
                return r;
        int lock = vps_lock(v, name, err);
        struct berth_container_info info;
        if (lock >= 0 && (r = vps_container_load(v, name, &info, err)) == 0) {
                *status = (int)info.status;
                berth_container_info_clear(&info);
        } else if (lock >= 0 && r == -ENOENT) {
                *status = -1;
        } else {
                if (lock >= 0)
                        close(lock);
                berth_vps_config_clear(cfg);
                return lock < 0 ? lock : r;
        }
        return lock;
}
