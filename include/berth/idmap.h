/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP): the "idmap" / "ridmap"
 * mount options, and an idmapped container root.
 *
 * An idmapped mount shows every on-disk owner shifted through a user
 * namespace's maps: with the container's maps "0 100000 65536", a file that
 * host root owns appears owned by host uid 100000, i.e. by the container's
 * root, without any chown.
 *
 * The kernel only lets a process privileged over the mount's user
 * namespace (the initial one for host filesystems) idmap a mount, and only
 * while the mount is detached. So the runtime's parent makes the mounts
 * (berth_idmap_prepare, after the container's id maps are written), passes
 * the detached mount fds to the container init over the sync socket
 * (berth_idmap_send_fds / berth_idmap_recv_fds), and the init attaches them
 * with move_mount() onto destinations resolved inside the root
 * (struct berth_rootfs_opts.idmap_fds, used by rootfs/mounts.c).
 *
 * Which user namespace maps a mount: the mount's own uidMappings and
 * gidMappings when it has them (written as-is into a throwaway user
 * namespace: "containerID hostID size" means on-disk id containerID shows as
 * host id hostID), else the container's user namespace. "ridmap" idmaps the
 * whole recursively bound tree, "idmap" a non-recursive bind or, with rbind,
 * the top mount only (crun's semantics).
 *
 * The same channel carries every bind mount of a container with a user
 * namespace: its source may be reachable by host root only (a 0700 dir of
 * root's), which the init, already root of its user namespace only, could
 * not open. runc too opens such sources before entering. */
#ifndef BERTH_IDMAP_H
#define BERTH_IDMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/err.h"
#include "berth/rootfs.h"
#include "berth/oci.h"

/* True for a mount with the "idmap" or "ridmap" option. */
bool berth_mount_is_idmapped(const struct berth_mount *m);

/* True for a mount the parent makes detached and hands over: an idmapped
 * one, or a bind mount of a container with a user namespace. */
bool berth_mount_from_parent(const struct berth_spec *spec, const struct berth_mount *m);

/* Number of idmapped mounts in the spec: the number of fds that
 * berth_idmap_prepare makes and the init expects. */
size_t berth_idmap_count(const struct berth_spec *spec);

/* Creates a user namespace with these maps (by a short-lived child that is
 * reaped before returning) and returns an O_CLOEXEC fd of it. Both map lists
 * must be non-empty. Needs CAP_SETUID/CAP_SETGID for maps onto other ids. */
int berth_userns_new(const struct berth_id_mapping *uid, size_t n_uid, const struct berth_id_mapping *gid,
                     size_t n_gid, struct berth_err *err);

/* Clones `path` (relative to dfd; AT_FDCWD for an absolute path) as a
 * detached bind mount -- the whole tree when `recursive` -- idmapped
 * through `userns_fd` (every mount of the tree with `idmap_tree`, else the
 * top one only). Returns the mount fd, O_CLOEXEC. Usable for root.path too:
 * clone the template root through the container's user namespace and
 * attach it where the root would be bound. */
int berth_idmap_clone(int dfd, const char *path, bool recursive, bool idmap_tree, int userns_fd,
                      struct berth_err *err);

/* Parent side. For every idmapped mount of spec->mounts, in spec order:
 * builds the detached mount (a bind of its source -- relative sources
 * against `bundle` -- or a new filesystem for non-bind types), idmaps it
 * through its own maps or `container_userns_fd` (-1 when the container has
 * no user namespace: then each mount needs its own maps), and applies its
 * mount flags. On success *fds (free with berth_idmap_fds_free) holds
 * *n == berth_idmap_count(spec) fds; *fds is NULL when there are none. */
int berth_idmap_prepare(const struct berth_spec *spec, const char *bundle, int container_userns_fd, int **fds,
                        size_t *n, struct berth_err *err);

/* Closes the fds and frees the array (NULL is fine). */
void berth_idmap_fds_free(int *fds, size_t n);

/* Sends the n fds in one SCM_RIGHTS message ("idmap" as data) over the
 * sync socket; n == 0 sends nothing. */
int berth_idmap_send_fds(int sock, const int *fds, size_t n, struct berth_err *err);

/* Child side: receives exactly n fds sent by berth_idmap_send_fds into a
 * new array (made O_CLOEXEC); n == 0 receives nothing and sets *fds NULL. */
int berth_idmap_recv_fds(int sock, size_t n, int **fds, struct berth_err *err);

/* Child side, for rootfs/mounts.c: a dup (O_CLOEXEC) of the prepared
 * detached mount of spec->mounts[mount_index] from o->idmap_fds. Fails with
 * EOPNOTSUPP when the runtime passed none. */
int berth_idmap_mount_fd(const struct berth_rootfs_opts *o, size_t mount_index, struct berth_err *err);

#endif
