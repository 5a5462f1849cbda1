/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Snapshots of a VPS (runtime/vps/snapshot*.c): file-level copy-on-write
 * through overlayfs layers.
 *
 * A snapshot is a list of read-only layers (former upper layers) below
 * which the template lies. Taking one of a stopped VPS renames its upper
 * layer into a new read-only layer and gives it an empty upper: constant
 * time whatever its size. A running VPS cannot change the layers of its
 * mounted overlay, so its snapshot is its upper layer as it is while the
 * VPS's cgroup is frozen, copied (cp --reflink=auto: shared blocks where the
 * data file system has reflinks) into the new layer; at its next start the
 * upper is rotated into a layer of its own so that the next live snapshot
 * copies only what was written since. Layers are shared between the VPS's
 * own stack and its snapshots and removed once nothing refers to them.
 *
 * Files of a VPS: snapshots.json (the record, written atomically),
 * snapshot.pending (the journal of an operation under way, which the next
 * start, snapshot verb or `vps repair` completes or undoes), and the layers
 * as l/<id> beside upper/ (in the disk image with the image backend, so
 * that they count against --disk). */
#ifndef BERTH_VPS_SNAPSHOT_H
#define BERTH_VPS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/err.h"
#include "berth/vps.h"

#define BERTH_VPS_SNAP_NAME_MAX 64
/* Layers below a VPS's upper at most (overlayfs allows 500 in all). */
#define BERTH_VPS_SNAP_MAX_LAYERS 200

/* [A-Za-z0-9][A-Za-z0-9._-]*, at most BERTH_VPS_SNAP_NAME_MAX. */
bool berth_vps_snap_name_valid(const char *snap);

struct berth_vps_snapshot_info {
        char name[BERTH_VPS_SNAP_NAME_MAX + 1];
        char created[32]; /* RFC 3339 */
        size_t layers;    /* read-only layers it is made of */
        bool live;        /* taken while the VPS was running */
};

/* Takes snapshot snap of VPS name (running or not). */
int berth_vps_snapshot_create(const struct berth_vps_ctx *v, const char *name, const char *snap,
                              struct berth_err *err);
/* The snapshots, oldest first (free *out with free()); *depth: the layers
 * below the VPS's upper now (NULL: not wanted). */
int berth_vps_snapshot_list(const struct berth_vps_ctx *v, const char *name,
                            struct berth_vps_snapshot_info **out, size_t *n, size_t *depth,
                            struct berth_err *err);
/* Rolls the VPS back to snap: files made since are gone, changed and
 * removed ones are back. A running VPS needs force (-EBUSY otherwise): it
 * is stopped (within timeout_s) and started again. */
int berth_vps_snapshot_restore(const struct berth_vps_ctx *v, const char *name, const char *snap, bool force,
                               int timeout_s, struct berth_err *err);
/* Drops the record of snap; its layers go once no snapshot and not the
 * VPS itself uses them. */
int berth_vps_snapshot_delete(const struct berth_vps_ctx *v, const char *name, const char *snap,
                              struct berth_err *err);
/* How many snapshots VPS name has (0 without any or when unreadable). */
size_t berth_vps_snapshot_count(const struct berth_vps_ctx *v, const char *name);

#endif
