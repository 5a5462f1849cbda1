// SPDX-License-Identifier: GPL-2.0-or-later
/* vps snapshot, snapshot-list, snapshot-restore, snapshot-delete
 * (berth/vps_snapshot.h says how snapshots work; snapshot_layers.c does
 * the work on disk). Each verb holds the VPS's lock and works in a
 * private mount namespace of its own, where the image backend's disk is
 * mounted for it: nothing is mounted on the host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/vps.h"
#include "berth/vps_snapshot.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/snapshot.h"

static int check_names(const char *name, const char *snap, struct berth_err *err)
{
        if (!berth_vps_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", name ? name : "");
        if (snap && !berth_vps_snap_name_valid(snap))
                return berth_err_set(err, EINVAL,
                                     "invalid snapshot name \"%s\" (letters, digits, '.', '_' and '-', "
                                     "starting with a letter or digit, at most %d)",
                                     snap, BERTH_VPS_SNAP_NAME_MAX);
        return 0;
}

/* Processes may use the VPS's layers: a container that is not stopped
 * (running, paused, or created and waiting). Damaged: refused. */
static int in_use(const struct berth_vps_ctx *v, const char *name, int st, bool *live, struct berth_err *err)
{
        *live = st >= 0 && st != BERTH_STATUS_STOPPED;
        if (st == BERTH_STATUS_UNKNOWN && vps_damaged_live(v, name))
                return berth_err_set(err, EBUSY,
                                     "VPS %s: its container state is damaged and processes still run in its "
                                     "cgroups; `berth vps stop %s` stops them",
                                     name, name);
        if (st == BERTH_STATUS_UNKNOWN)
                *live = false;
        return 0;
}

/* The layers of cfg, in this process's private mount namespace, with any
 * interrupted operation recovered and the record loaded. */
static int open_layers(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct vps_snap_base *b, struct vps_snaps *s, struct berth_err *err)
{
        int r = berth_private_mount_ns(err);
        if (r < 0 || (r = vps_snap_base_open(v, cfg, b, err)) < 0)
                return r;
        char what[256];
        if ((r = vps_snap_recover(b, what, sizeof(what), err)) >= 0 && what[0])
                vps_warn(v, "VPS %s: repaired: %s", cfg->name, what);
        if (r >= 0)
                r = vps_snaps_load(b->dir, s, err);
        if (r < 0)
                vps_snap_base_close(b);
        return r;
}

/* The running VPS's upper copied while its cgroup is frozen: nothing
 * writes during the copy, so the snapshot is the state of one instant. */
static int snapshot_live(const struct berth_vps_ctx *v, struct vps_snap_base *b, struct vps_snaps *s,
                         const char *snap, struct berth_err *err)
{
        const char *name = b->cfg->name;
        struct berth_container_info info;
        int r = vps_container_load(v, name, &info, err);
        if (r < 0)
                return r;
        bool paused = info.status == BERTH_STATUS_PAUSED, has_cg = info.st.cgroup != NULL;
        struct berth_cgroup *cg = has_cg ? berth_cgroup_restore(info.st.cgroup, err) : NULL;
        berth_container_info_clear(&info);
        if (!cg)
                return has_cg ? -err->code : berth_err_set(err, ENOENT, "VPS %s has no cgroup", name);
        /* A paused VPS stays paused: nothing to freeze or thaw. */
        r = vps_snap_copy(b, s, snap, true, paused ? NULL : cg, err);
        berth_cgroup_free(cg);
        return r;
}

int berth_vps_snapshot_create(const struct berth_vps_ctx *v, const char *name, const char *snap,
                              struct berth_err *err)
{
        int r = check_names(name, snap, err);
        if (r < 0)
                return berth_err_wrap(err, "snapshot VPS %s", name ? name : "");
        struct berth_vps_config cfg;
        int st;
        _cleanup_close_ int lock = vps_open_locked(v, name, &cfg, &st, err);
        if (lock < 0)
                return berth_err_wrap(err, "snapshot VPS %s", name);
        bool live = false;
        struct vps_snap_base b;
        struct vps_snaps s;
        r = in_use(v, name, st, &live, err);
        if (r >= 0 && (r = open_layers(v, &cfg, &b, &s, err)) >= 0) {
                if (vps_snaps_find(&s, snap))
                        r = berth_err_set(err, EEXIST, "snapshot %s already exists", snap);
                else if (live)
                        r = snapshot_live(v, &b, &s, snap, err);
                else /* btrfs: a subvolume snapshot keeps the stack as deep as it is */
                        r = b.btrfs ? vps_snap_copy(&b, &s, snap, false, NULL, err)
                                    : vps_snap_rotate(&b, &s, snap, err);
                if (r >= 0)
                        vps_trace(v, "VPS %s: snapshot %s taken (%s), %zu layers", name, snap,
                                  b.btrfs ? "btrfs subvolume snapshot"
                                  : live  ? "running: upper copied while frozen"
                                          : "stopped: upper rotated",
                                  s.n_lowers);
                vps_snaps_clear(&s);
                vps_snap_base_close(&b);
        }
        berth_vps_config_clear(&cfg);
        if (r < 0)
                vps_err_space(v, err);
        return r < 0 ? berth_err_wrap(err, "snapshot VPS %s", name) : 0;
}

int berth_vps_snapshot_list(const struct berth_vps_ctx *v, const char *name,
                            struct berth_vps_snapshot_info **out, size_t *n, size_t *depth,
                            struct berth_err *err)
{
        *out = NULL;
        *n = 0;
        int r = check_names(name, NULL, err);
        char dir[PATH_MAX], cfg_path[PATH_MAX];
        if (r < 0)
                return r;
        berth_vps_path(v, name, NULL, dir, sizeof(dir));
        berth_vps_path(v, name, "vps.json", cfg_path, sizeof(cfg_path));
        if (access(cfg_path, F_OK) < 0)
                return berth_err_set(err, ENOENT, "VPS %s does not exist", name);
        struct vps_snaps s;
        if ((r = vps_snaps_load(dir, &s, err)) < 0)
                return r;
        struct berth_vps_snapshot_info *a = calloc(s.n + 1, sizeof(*a));
        if (!a) {
                vps_snaps_clear(&s);
                return berth_err_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < s.n; i++) {
                snprintf(a[i].name, sizeof(a[i].name), "%s", s.snaps[i].name);
                snprintf(a[i].created, sizeof(a[i].created), "%s", s.snaps[i].created);
                a[i].layers = s.snaps[i].n_layers;
                a[i].live = s.snaps[i].live;
        }
        *out = a;
        *n = s.n;
        if (depth)
                *depth = s.n_lowers;
        vps_snaps_clear(&s);
        return 0;
}

/* Under the lock, the VPS not running. */
static int restore_stopped(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *snap, struct berth_err *err)
{
        struct vps_snap_base b;
        struct vps_snaps s;
        int r = open_layers(v, cfg, &b, &s, err);
        if (r < 0)
                return r;
        r = vps_snaps_find(&s, snap) ? vps_snap_restore(&b, &s, snap, err)
                                     : berth_err_set(err, ENOENT, "no snapshot %s", snap);
        if (r >= 0)
                vps_trace(v, "VPS %s: rolled back to snapshot %s (%zu layers)", cfg->name, snap, s.n_lowers);
        vps_snaps_clear(&s);
        vps_snap_base_close(&b);
        return r;
}

static int has_snapshot(const struct berth_vps_ctx *v, const char *name, const char *snap,
                        struct berth_err *err)
{
        char dir[PATH_MAX];
        berth_vps_path(v, name, NULL, dir, sizeof(dir));
        struct vps_snaps s;
        int r = vps_snaps_load(dir, &s, err);
        if (r < 0)
                return r;
        r = vps_snaps_find(&s, snap) ? 0 : berth_err_set(err, ENOENT, "no snapshot %s", snap);
        vps_snaps_clear(&s);
        return r;
}

/* --force: stops it, then takes the lock again (-EBUSY when someone
 * started it meanwhile). */
static int stop_for_restore(const struct berth_vps_ctx *v, const char *name, int *lock,
                            struct berth_vps_config *cfg, int timeout_s, struct berth_err *err)
{
        close(*lock);
        berth_vps_config_clear(cfg);
        vps_trace(v, "VPS %s: restore --force: stopping it first", name);
        int r = berth_vps_stop(v, name, timeout_s, NULL, err);
        if (r < 0 && r != -ESRCH)
                return r;
        int st;
        *lock = vps_open_locked(v, name, cfg, &st, err);
        if (*lock < 0)
                return *lock;
        bool live;
        if ((r = in_use(v, name, st, &live, err)) >= 0 && live)
                r = berth_err_set(err, EBUSY, "VPS %s was started again meanwhile", name);
        return r;
}

int berth_vps_snapshot_restore(const struct berth_vps_ctx *v, const char *name, const char *snap, bool force,
                               int timeout_s, struct berth_err *err)
{
        int r = check_names(name, snap, err);
        if (r < 0)
                return berth_err_wrap(err, "restore VPS %s", name ? name : "");
        struct berth_vps_config cfg;
        int st;
        int lock = vps_open_locked(v, name, &cfg, &st, err);
        if (lock < 0)
                return berth_err_wrap(err, "restore VPS %s", name);
        bool live = false;
        r = in_use(v, name, st, &live, err);
        if (r >= 0)
                r = has_snapshot(v, name, snap, err);
        if (r >= 0 && live && !force)
                r = berth_err_set(err, EBUSY,
                                  "VPS %s is running: stop it first, or give --force (stops and starts it)",
                                  name);
        else if (r >= 0 && live)
                r = stop_for_restore(v, name, &lock, &cfg, timeout_s, err);
        if (r >= 0)
                r = restore_stopped(v, &cfg, snap, err);
        if (lock >= 0)
                close(lock);
        berth_vps_config_clear(&cfg);
        if (r >= 0 && live) {
                vps_trace(v, "VPS %s: restore --force: starting it again", name);
                r = berth_vps_start(v, name, err);
                return r < 0 ? berth_err_wrap(err, "restore VPS %s: rolled back to %s, but", name, snap) : 0;
        }
        if (r < 0)
                vps_err_space(v, err);
        return r < 0 ? berth_err_wrap(err, "restore VPS %s to snapshot %s", name, snap) : 0;
}

int berth_vps_snapshot_delete(const struct berth_vps_ctx *v, const char *name, const char *snap,
                              struct berth_err *err)
{
        int r = check_names(name, snap, err);
        if (r < 0)
                return berth_err_wrap(err, "delete snapshot of VPS %s", name ? name : "");
        struct berth_vps_config cfg;
        int st;
        _cleanup_close_ int lock = vps_open_locked(v, name, &cfg, &st, err);
        if (lock < 0)
                return berth_err_wrap(err, "delete snapshot %s of VPS %s", snap, name);
        struct vps_snap_base b;
        struct vps_snaps s;
        r = open_layers(v, &cfg, &b, &s, err);
        if (r >= 0) {
                struct vps_snap *sn = vps_snaps_find(&s, snap);
                if (!sn)
                        r = berth_err_set(err, ENOENT, "no snapshot %s", snap);
                if (sn)
                        vps_snaps_remove(&s, sn);
                /* Layers a later snapshot or the VPS itself stands on stay. */
                if (r >= 0 && (r = vps_snaps_save(b.dir, &s, err)) >= 0)
                        r = vps_snap_gc(&b, &s, err);
                vps_snaps_clear(&s);
                vps_snap_base_close(&b);
        }
        berth_vps_config_clear(&cfg);
        return r < 0 ? berth_err_wrap(err, "delete snapshot %s of VPS %s", snap, name) : 0;
}
