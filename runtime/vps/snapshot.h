/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to runtime/vps/snapshot*.c, and the hooks the VPS's start and
 * repair call (berth/vps_snapshot.h says how snapshots work). */
#ifndef BERTH_RUNTIME_VPS_SNAPSHOT_H
#define BERTH_RUNTIME_VPS_SNAPSHOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/vps.h"
#include "berth/vps_snapshot.h"

#define VPS_SNAP_FILE    "snapshots.json"   /* in the VPS's directory */
#define VPS_SNAP_PENDING "snapshot.pending" /* likewise: the journal */
#define VPS_SNAP_LAYERS  "l"                /* beside upper/: l/<id> */

struct vps_snap {
        char name[BERTH_VPS_SNAP_NAME_MAX + 1];
        char created[32];
        bool live;
        unsigned *layers; /* top first */
        size_t n_layers;
};

/* snapshots.json: the VPS's own stack below its upper (lowers, top
 * first), whether its upper is to become a layer at the next start
 * (rotate: a live snapshot copied it), and the snapshots. */
struct vps_snaps {
        unsigned next; /* the next layer id */
        unsigned *lowers;
        size_t n_lowers;
        bool rotate;
        struct vps_snap *snaps;
        size_t n;
};

/* The journal of an operation under way. */
enum vps_snap_op { VPS_SNAP_OP_ROTATE, VPS_SNAP_OP_COPY, VPS_SNAP_OP_RESTORE, VPS_SNAP_OP_BACKUP };
struct vps_snap_pending {
        enum vps_snap_op op;
        unsigned layer; /* rotate, copy: the new layer; backup: the pid of its l/.backup.<pid> */
        bool thaw;      /* copy, backup: the VPS was frozen for it (thawed on recovery) */
        char snap[BERTH_VPS_SNAP_NAME_MAX + 1]; /* copy, restore; rotate: "" at a start */
};

/* ---- snapshot_store.c ---- */
/* Loads dir's snapshots.json (none: an empty record). */
int vps_snaps_load(const char *dir, struct vps_snaps *s, struct berth_err *err);
int vps_snaps_save(const char *dir, const struct vps_snaps *s, struct berth_err *err);
void vps_snaps_clear(struct vps_snaps *s);
struct vps_snap *vps_snaps_find(struct vps_snaps *s, const char *name);
/* Appends a snapshot named name of layers (copied). */
int vps_snaps_add(struct vps_snaps *s, const char *name, bool live, const unsigned *layers, size_t n,
                  struct berth_err *err);
void vps_snaps_remove(struct vps_snaps *s, struct vps_snap *snap);
/* Puts layer id on top of the VPS's own stack. */
int vps_snaps_push(struct vps_snaps *s, unsigned id, struct berth_err *err);
/* True when the stack or a snapshot uses layer id. */
bool vps_snaps_uses(const struct vps_snaps *s, unsigned id);
/* The journal: 1 and *p when there is one, 0 when not. */
int vps_snap_pending_load(const char *dir, struct vps_snap_pending *p, struct berth_err *err);
int vps_snap_pending_save(const char *dir, const struct vps_snap_pending *p, struct berth_err *err);
int vps_snap_pending_drop(const char *dir, struct berth_err *err);

/* ---- snapshot_layers.c: the layers on disk ---- */
/* Where a VPS's upper/, work/ and l/ are, while an operation works on them. */
struct vps_snap_base {
        const struct berth_vps_ctx *v;
        const struct berth_vps_config *cfg;
        char dir[PATH_MAX];  /* the VPS's directory */
        char path[PATH_MAX]; /* where upper/ work/ l/ are */
        char dev[64];        /* image backend: its loop device */
        bool mounted, attached;
        bool btrfs; /* a btrfs image: the current layer is the subvolume cur/ */
};
/* The base of cfg for an operation of this process, which must be in a
 * private mount namespace: the image backend's image gets mounted there
 * (its loop device attached when the VPS does not run). */
int vps_snap_base_open(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct vps_snap_base *b, struct berth_err *err);
void vps_snap_base_close(struct vps_snap_base *b);
/* The base as start sees it: path already mounted by the disk code. */
void vps_snap_base_at(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *path,
                      struct vps_snap_base *b);
/* Completes or undoes the journaled operation, then removes layers nothing
 * uses. *what (may be NULL) says what was done ("" when nothing). */
int vps_snap_recover(struct vps_snap_base *b, char *what, size_t len, struct berth_err *err);
/* upper/ becomes layer l/<s->next> on top of the stack; a new empty upper
 * (the same owner and mode) goes on it; snap (may be NULL) records the
 * result as a snapshot. Saves snapshots.json. */
int vps_snap_rotate(struct vps_snap_base *b, struct vps_snaps *s, const char *snap, struct berth_err *err);
/* upper/ of a running VPS copied into a new layer while cg (its
 * container's cgroup; NULL: paused already, or not running) is frozen,
 * recorded as snapshot snap over the stack; saves snapshots.json. On a
 * btrfs image the "copy" is a subvolume snapshot, for a stopped VPS too. */
struct berth_cgroup;
int vps_snap_copy(struct vps_snap_base *b, struct vps_snaps *s, const char *snap, bool live,
                  struct berth_cgroup *cg, struct berth_err *err);
/* The VPS's stack becomes snap's; its upper is emptied. */
int vps_snap_restore(struct vps_snap_base *b, struct vps_snaps *s, const char *snap, struct berth_err *err);
/* Removes the layers below l/ that nothing uses (and half-made ones). */
int vps_snap_gc(struct vps_snap_base *b, const struct vps_snaps *s, struct berth_err *err);

/* ---- hooks (start through disk.c, repair.c) ---- */
/* At start, in its private mount namespace, layers at base (mounted):
 * recovers a half-made operation and rotates the upper after a live
 * snapshot. */
int vps_snap_start_prepare(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *base, struct berth_err *err);
/* Mounts the overlay of the VPS's stack: upper and work at base, its
 * layers, and lower (the template) at the bottom, on target. */
int vps_snap_overlay_mount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *base, const char *lower, const char *target, struct berth_err *err);
/* vps repair: 1 with what filled when a half-made snapshot operation was
 * found (fixed unless dry_run), 0 when there was none. Of a running VPS
 * only a live snapshot's (its copy removed, the VPS thawed). */
int vps_snap_repair(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, bool running,
                    bool dry_run, char *what, size_t len, struct berth_err *err);

#endif
