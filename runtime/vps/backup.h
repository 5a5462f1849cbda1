/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to runtime/vps/backup*.c, restore*.c and clone.c: the archive
 * format of `vps backup`, read back by `vps restore` and `vps clone`.
 *
 * One tar stream (pax, zstd-compressed; uncompressed for clone's pipe):
 *
 *   berth-backup.json    the manifest, always the first entry:
 *                        {"format": "berth-vps-backup", "version": 1,
 *                         "created": RFC 3339, "vps": <vps.json>,
 *                         "ids": "guest" | "host",
 *                         "template": {"name", "checksum": "sha256:<hex>",
 *                                      "included": bool},
 *                         "snapshots": <snapshots.json> (only with some)}
 *   template/template.json, template/rootfs/...
 *                        only with --with-template: the template as it is
 *                        on disk (a template holds guest ids already)
 *   upper/...            the VPS's own files (its overlay upper layer,
 *                        whiteouts and overlay xattrs included)
 *   l/<id>/...           the read-only layers below it, its own stack's
 *                        and its snapshots' (snapshot.h), when it has any
 *
 * "ids": "guest": owners are the guest's ids (host id - the VPS's first
 * id), so that the archive restores into any id range; security.capability
 * is stored as v3 with the guest's rootid, POSIX ACL xattrs
 * (system.posix_acl_*) with guest ids. "host": a privileged VPS (no user
 * namespace), whose files hold host ids, stored as they are.
 * Every entry carries its xattrs (pax SCHILY.xattr.*), sparse files their
 * map (GNU sparse 1.0), hard links point at the first path of the inode. */
#ifndef BERTH_RUNTIME_VPS_BACKUP_H
#define BERTH_RUNTIME_VPS_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/vps.h"

#define VPS_BACKUP_FORMAT   "berth-vps-backup"
#define VPS_BACKUP_VERSION  1
#define VPS_BACKUP_MANIFEST "berth-backup.json"
#define VPS_BACKUP_UPPER    "upper"
#define VPS_BACKUP_LAYERS   "l" /* = VPS_SNAP_LAYERS, beside upper/ */
#define VPS_BACKUP_TEMPLATE "template"
#define VPS_BACKUP_SUM_LEN  (7 + 64 + 1) /* "sha256:" + hex + NUL */

/* ---- backup_ids.c: ids between the host and the archive ---- */
/* A shift of ids: host = guest + base for guest < size. Disabled (a
 * privileged VPS): ids are the same on both sides. */
struct vps_idshift {
        bool enabled;
        uint32_t base, size;
};
void vps_idshift_of(const struct berth_vps_config *cfg, struct vps_idshift *s);
/* Host id -> guest id (ids outside the range: the overflow id 65534, as
 * the guest sees them) and back. */
uint32_t vps_id_to_guest(const struct vps_idshift *s, uint32_t host);
uint32_t vps_id_to_host(const struct vps_idshift *s, uint32_t guest);
/* An xattr value whose ids need the shift (security.capability, POSIX
 * ACLs): rewritten in place in buf (len may change, within cap bytes);
 * to_guest: host -> archive, else archive -> host. Other names: untouched.
 * -EINVAL when the value is malformed. */
int vps_xattr_shift(const struct vps_idshift *s, bool to_guest, const char *name, unsigned char *buf,
                    size_t *len, size_t cap);
/* From one host id range into another (a VPS that changes hosts): ids in
 * [from, from + size) move to the same offset from `to`; others stay, as
 * they belong to the host (berth's own files beside the guest's). */
struct vps_idrebase {
        uint32_t from, to, size;
};
uint32_t vps_id_rebase(const struct vps_idrebase *r, uint32_t id);
/* The same for the ids in an xattr value (a v3 capability's root id, POSIX
 * ACL entries), in place; other names untouched; -EINVAL when malformed. */
int vps_xattr_rebase(const struct vps_idrebase *r, const char *name, unsigned char *buf, size_t len);

/* ---- backup_sum.c: SHA-256 and the template checksum ---- */
struct vps_sha256 {
        uint32_t h[8];
        uint64_t n;
        unsigned char buf[64];
        size_t used;
};
void vps_sha256_init(struct vps_sha256 *c);
void vps_sha256_update(struct vps_sha256 *c, const void *data, size_t len);
void vps_sha256_final(struct vps_sha256 *c, unsigned char out[32]);
/* "sha256:<hex>" of the tree at root: paths in name order, type, mode,
 * owners, sizes, symlink targets, device numbers, xattrs and file
 * contents (not times: a copied template keeps its checksum). */
int vps_tree_checksum(const char *root, char out[VPS_BACKUP_SUM_LEN], struct berth_err *err);
/* The checksum of the template in tmpl_dir (<data>/templates/<T>): of
 * its rootfs/, cached in tmpl_dir/.checksum for as long as a walk of the
 * tree's metadata (inode numbers, sizes, modes, owners, times) finds it
 * unchanged. */
int vps_template_checksum(const char *tmpl_dir, char out[VPS_BACKUP_SUM_LEN], struct berth_err *err);

/* ---- backup_write.c: a tree into the archive ---- */
struct vps_progress {
        /* Called now and then (and once with done=true); NULL: nothing. */
        berth_vps_progress_fn fn;
        void *arg;
        uint64_t total; /* bytes expected, 0: unknown */
};
/* The bytes of the regular files below root (a hard link once). */
uint64_t vps_tree_bytes(const char *root);
struct vps_archive_out;
/* A writer on fd; compress false: a plain tar (clone's pipe). */
struct vps_archive_out *vps_archive_out_new(int fd, bool compress, const struct vps_progress *p,
                                            struct berth_err *err);
/* One regular file at path with data. */
int vps_archive_out_file(struct vps_archive_out *o, const char *path, const void *data, size_t len,
                         struct berth_err *err);
/* The tree at root (a directory path on the host) under prefix; ids
 * through s to the guest's (NULL: as they are). */
int vps_archive_out_tree(struct vps_archive_out *o, const char *root, const char *prefix,
                         const struct vps_idshift *s, struct berth_err *err);
int vps_archive_out_close(struct vps_archive_out *o, struct berth_err *err);
void vps_archive_out_free(struct vps_archive_out *o);
/* Adds bytes to the progress's total. */
void vps_archive_out_expect(struct vps_archive_out *o, uint64_t bytes);
void vps_archive_out_counts(const struct vps_archive_out *o, uint64_t *bytes, uint64_t *files);

/* ---- restore_read.c: the archive onto disk ---- */
struct vps_archive_in;
struct vps_archive_in *vps_archive_in_new(int fd, const struct vps_progress *p, struct berth_err *err);
/* The manifest (the first entry) as text. */
int vps_archive_in_manifest(struct vps_archive_in *in, char **text, size_t *len, struct berth_err *err);
/* Extracts the entries under prefix/ into the existing directory dest
 * (the prefix itself is dest), ids through s to the host's (NULL: as they
 * are); stops at the first entry outside prefix (left for the next call)
 * or at the end. skip: a predicate on the path below prefix (NULL: none)
 * for entries not to extract. Paths are checked (no "..", no absolute
 * path, nothing through a symlink). Returns how many entries it took. */
int vps_archive_in_extract(struct vps_archive_in *in, const char *prefix, const char *dest,
                           const struct vps_idshift *s, bool (*skip)(const char *rel), struct berth_err *err);
/* Skips the entries under prefix/. */
int vps_archive_in_skip(struct vps_archive_in *in, const char *prefix, struct berth_err *err);
/* After the last section: the archive must end here (anything else, or a
 * truncated stream, is damage). */
int vps_archive_in_end(struct vps_archive_in *in, struct berth_err *err);
void vps_archive_in_free(struct vps_archive_in *in);
void vps_archive_in_counts(const struct vps_archive_in *in, uint64_t *bytes, uint64_t *files);

/* ---- backup.c / restore.c: the VPS side ---- */
/* The layers of a VPS in dir: its upper directory path into out (for the
 * image backend, after mounting the image on dir/disk in the caller's
 * mount namespace, which must be private). *mounted tells to undo with
 * vps_backup_layers_done. */
int vps_backup_layers(const struct berth_vps_config *cfg, const char *dir, char *out, size_t len,
                      bool *mounted, struct berth_err *err);
void vps_backup_layers_done(const char *dir, bool mounted);
/* Where the layers of snapshots (l/) are, the image mounted as above. */
void vps_backup_layers_dir(const struct berth_vps_config *cfg, const char *dir, char *out, size_t len);

/* restore_template.c: the archive's template section (next in the
 * stream): the host's template name with checksum sum, or the archive's
 * restored (included) under name or name-<sum prefix>; its name into out. */
int vps_restore_template(const struct berth_vps_ctx *v, struct vps_archive_in *in, const char *name,
                         const char *sum, bool included, char *out, size_t len, bool *restored,
                         struct berth_err *err);

/* restore.c: the restore of the archive on fd, for restore and clone
 * (clone: a new identity: identity files dropped, a new MAC, ips replace
 * the addresses even when NULL). */
int vps_restore_fd(const struct berth_vps_ctx *v, int fd, const struct berth_vps_restore_opts *o, bool clone,
                   struct berth_vps_archive_result *res, struct berth_err *err);
/* backup.c: the backup of name on fd, compressed or not (clone's pipe). */
int vps_backup_fd(const struct berth_vps_ctx *v, const char *name, int fd,
                  const struct berth_vps_backup_opts *o, bool compress, struct berth_vps_archive_result *res,
                  struct berth_err *err);

#endif
