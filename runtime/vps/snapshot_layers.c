// SPDX-License-Identifier: GPL-2.0-or-later
/* The layers of a VPS's snapshots on disk: l/<id> beside upper/ and work/
 * (berth/vps_snapshot.h). Every operation writes its journal
 * (snapshot.pending) first and drops it last; vps_snap_recover, run by
 * the next operation, the next start or `vps repair`, completes or undoes
 * what a crash interrupted:
 *
 *   rotate   upper -> l/N, new empty upper, N on the stack: undone (l/N
 *            back to upper) unless snapshots.json has N already
 *   copy     upper copied to l/.new.N -> l/N, recorded: undone (the copy
 *            removed) unless the snapshot is recorded
 *   restore  upper -> l/.rm.upper, new empty upper, the snapshot's layers
 *            as the stack: always completed (the old upper is discarded
 *            either way)
 *
 * On a btrfs disk image the current layer is the subvolume cur/ (upper/
 * and work/ in it: overlayfs renames from one to the other, which btrfs
 * does only within a subvolume), and every snapshot, of a running VPS or
 * not, is a "copy" that is a read-only subvolume snapshot of cur/: no
 * data is copied, the stack does not grow, l/<id>/upper is the layer. A
 * restore makes cur/ a writable snapshot of the snapshot's top layer
 * again, over the stack below it: the stack does not grow either. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "runtime/vps/disk.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/snapshot.h"

static void at(const struct vps_snap_base *b, const char *name, char *out)
{
        snprintf(out, PATH_MAX, "%s/%s", b->path, name);
}

static void layer_at(const struct vps_snap_base *b, const char *name, char *out)
{
        snprintf(out, PATH_MAX, "%s/" VPS_SNAP_LAYERS "/%s", b->path, name);
}

static void layer_id_at(const struct vps_snap_base *b, unsigned id, char *out)
{
        char n[16];
        snprintf(n, sizeof(n), "%u", id);
        layer_at(b, n, out);
}

/* What moves when the current layer becomes a layer: upper/, or on btrfs
 * the subvolume cur/ holding it and work/. */
static void cur_at(const struct vps_snap_base *b, char *out)
{
        at(b, b->btrfs ? VPS_BTRFS_CUR : "upper", out);
}

/* The overlay's upper and work directories, relative to b->path. */
static const char *upper_rel(const struct vps_snap_base *b)
{
        return b->btrfs ? VPS_BTRFS_CUR "/upper" : "upper";
}

static const char *work_rel(const struct vps_snap_base *b)
{
        return b->btrfs ? VPS_BTRFS_CUR "/work" : "work";
}

/* A layer's content relative to b->path: l/<id>, or l/<id>/upper when it
 * is a btrfs subvolume (a snapshot of cur/). */
static void layer_rel(const struct vps_snap_base *b, int lfd, unsigned id, char *out, size_t len)
{
        char n[16];
        snprintf(n, sizeof(n), "%u", id);
        bool sub = b->btrfs && lfd >= 0 && vps_btrfs_is_subvol(lfd, n);
        snprintf(out, len, VPS_SNAP_LAYERS "/%u%s", id, sub ? "/upper" : "");
}

static void layer_content_at(const struct vps_snap_base *b, unsigned id, char *out)
{
        char l[PATH_MAX], rel[64];
        at(b, VPS_SNAP_LAYERS, l);
        _cleanup_close_ int fd = b->btrfs ? open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        layer_rel(b, fd, id, rel, sizeof(rel));
        at(b, rel, out);
}

void vps_snap_base_at(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *path,
                      struct vps_snap_base *b)
{
        memset(b, 0, sizeof(*b));
        b->v = v;
        b->cfg = cfg;
        berth_vps_path(v, cfg->name, NULL, b->dir, sizeof(b->dir));
        snprintf(b->path, sizeof(b->path), "%s", path);
        b->btrfs = cfg->disk.backend == BERTH_VPS_DISK_IMAGE && cfg->disk.fs == BERTH_VPS_DISK_FS_BTRFS;
}

int vps_snap_base_open(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct vps_snap_base *b, struct berth_err *err)
{
        char dir[PATH_MAX];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        if (cfg->disk.backend != BERTH_VPS_DISK_IMAGE) {
                vps_snap_base_at(v, cfg, dir, b);
                return 0;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_DISK_MOUNT, dir);
        vps_snap_base_at(v, cfg, path, b);
        unsigned major, minor;
        int r = vps_image_loop_find(dir, b->dev, sizeof(b->dev), &major, &minor);
        if (r < 0)
                return berth_err_sys(err, -r, "find the loop device of the disk image");
        if (r == 0) {
                if ((r = vps_image_loop_attach(dir, b->dev, sizeof(b->dev), &major, &minor, err)) < 0)
                        return berth_err_wrap(err, "attach the disk image");
                b->attached = true;
        }
        /* The running guest's super block when it runs: ext4 shares it
         * between mounts of one device. */
        if ((r = vps_image_mount(dir, b->dev, cfg->disk.fs, err)) < 0) {
                vps_snap_base_close(b);
                return r;
        }
        b->mounted = true;
        return 0;
}

void vps_snap_base_close(struct vps_snap_base *b)
{
        if (b->mounted && umount2(b->path, 0) < 0)
                umount2(b->path, MNT_DETACH);
        b->mounted = false;
        if (b->attached)
                vps_image_loop_release(b->dev);
        b->attached = false;
}

/* A directory at path with like's owner and mode (and the VPS's project). */
static int mkdir_like(const struct vps_snap_base *b, const char *path, const char *like,
                      struct berth_err *err)
{
        struct stat sb;
        if (stat(like, &sb) < 0)
                return berth_err_sys(err, errno, "stat %s", like);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return vps_err_write(err, errno, b->path, "mkdir %s", path);
        if (chown(path, sb.st_uid, sb.st_gid) < 0 || chmod(path, sb.st_mode & 07777) < 0)
                return berth_err_sys(err, errno, "chown %s", path);
        if (b->cfg->disk.backend == BERTH_VPS_DISK_PROJECT)
                return vps_quota_dir(path, b->cfg->disk.project_id, err);
        return 0;
}

/* A new, empty current layer at path (cur_at) whose root is like's. */
static int make_cur(const struct vps_snap_base *b, const char *path, const char *like, struct berth_err *err)
{
        if (!b->btrfs)
                return mkdir_like(b, path, like, err);
        int r = vps_btrfs_make_cur(b->path, like, vps_host_uid(b->cfg, 0), vps_host_uid(b->cfg, 0));
        return r < 0 ? vps_err_write(err, -r, b->path, "make the subvolume %s", path) : 0;
}

/* l/ itself (in the VPS's project: ext4 renames only within one). */
static int layers_dir(const struct vps_snap_base *b, struct berth_err *err)
{
        char l[PATH_MAX];
        at(b, VPS_SNAP_LAYERS, l);
        if (mkdir(l, 0700) < 0) {
                if (errno == EEXIST)
                        return 0;
                return vps_err_write(err, errno, b->path, "mkdir %s", l);
        }
        if (b->cfg->disk.backend == BERTH_VPS_DISK_PROJECT)
                return vps_quota_dir(l, b->cfg->disk.project_id, err);
        return 0;
}

static int sync_dirs(const struct vps_snap_base *b, struct berth_err *err)
{
        char l[PATH_MAX];
        at(b, VPS_SNAP_LAYERS, l);
        int r = vps_fsync_dir(l);
        if (r >= 0)
                r = vps_fsync_dir(b->path);
        return r < 0 ? berth_err_sys(err, -r, "fsync %s", b->path) : 0;
}

/* A layer or upper: a btrfs subvolume goes whole (read-only or not). */
static int rm_at(int fd, const char *name, struct berth_err *err)
{
        if (!vps_btrfs_is_subvol(fd, name))
                return berth_rmtree_at(fd, name, err);
        int r = vps_btrfs_subvol_delete(fd, name);
        return r < 0 ? berth_err_sys(err, -r, "delete the subvolume %s", name) : 0;
}

static int rm(const char *path, struct berth_err *err)
{
        char parent[PATH_MAX];
        snprintf(parent, sizeof(parent), "%s", path);
        char *slash = strrchr(parent, '/');
        *slash = 0;
        _cleanup_close_ int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "open %s", parent);
        return rm_at(fd, slash + 1, err);
}

int vps_snap_gc(struct vps_snap_base *b, const struct vps_snaps *s, struct berth_err *err)
{
        char l[PATH_MAX];
        at(b, VPS_SNAP_LAYERS, l);
        _cleanup_close_ int fd = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "open %s", l);
        _cleanup_closedir_ DIR *d = fdopendir(dup(fd));
        if (!d)
                return berth_err_sys(err, errno, "list %s", l);
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                const char *n = de->d_name;
                if (!strcmp(n, ".") || !strcmp(n, ".."))
                        continue;
                char *end;
                unsigned long id = strtoul(n, &end, 10);
                if (n[0] != '.' && !*end && vps_snaps_uses(s, (unsigned)id))
                        continue;
                vps_trace(b->v, "VPS %s: removing layer %s (nothing uses it)", b->cfg->name, n);
                r = rm_at(fd, n, err);
        }
        return r;
}

/* ---- recovery ---- */

static int recover_rotate(struct vps_snap_base *b, const struct vps_snaps *s,
                          const struct vps_snap_pending *p, char *what, size_t len, struct berth_err *err)
{
        char upper[PATH_MAX], layer[PATH_MAX], content[PATH_MAX];
        cur_at(b, upper);
        layer_id_at(b, p->layer, layer);
        bool has_layer = access(layer, F_OK) == 0, has_upper = access(upper, F_OK) == 0;
        if (vps_snaps_uses(s, p->layer)) {
                snprintf(what, len, "completed a snapshot%s%s (its new upper layer)", p->snap[0] ? " " : "",
                         p->snap);
                layer_content_at(b, p->layer, content);
                return has_upper ? 0 : make_cur(b, upper, content, err);
        }
        snprintf(what, len, "undid a half-made snapshot%s%s (upper layer put back)", p->snap[0] ? " " : "",
                 p->snap);
        if (!has_layer)
                return 0;
        /* The rename happened: an upper now is the new, empty one. */
        int r = has_upper ? rm(upper, err) : 0;
        if (r >= 0 && rename(layer, upper) < 0)
                r = berth_err_sys(err, errno, "rename %s to %s", layer, upper);
        return r;
}

/* A live snapshot killed while the VPS was frozen for it: thawed. */
static int thaw(const struct vps_snap_base *b, struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(b->v, b->cfg->name, &info, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        bool had = info.st.cgroup != NULL;
        struct berth_cgroup *cg = had ? berth_cgroup_restore(info.st.cgroup, err) : NULL;
        berth_container_info_clear(&info);
        if (!cg)
                return had ? -err->code : 0;
        r = berth_cgroup_freeze(cg, false, err);
        berth_cgroup_free(cg);
        return r;
}

static int recover_copy(struct vps_snap_base *b, struct vps_snaps *s, const struct vps_snap_pending *p,
                        char *what, size_t len, struct berth_err *err)
{
        int r = p->thaw ? thaw(b, err) : 0;
        if (r < 0)
                return r;
        struct vps_snap *sn = vps_snaps_find(s, p->snap);
        if (sn && sn->n_layers && sn->layers[0] == p->layer) {
                snprintf(what, len, "completed snapshot %s%s", p->snap, p->thaw ? "; VPS thawed" : "");
                return 0;
        }
        snprintf(what, len, "removed the half-made copy of snapshot %s%s", p->snap,
                 p->thaw ? "; VPS thawed" : "");
        char path[PATH_MAX], n[32];
        snprintf(n, sizeof(n), ".new.%u", p->layer);
        layer_at(b, n, path);
        r = rm(path, err);
        layer_id_at(b, p->layer, path);
        if (r >= 0 && !vps_snaps_uses(s, p->layer))
                r = rm(path, err);
        return r;
}

/* btrfs: the snapshot's top layer, a read-only snapshot of cur/, becomes
 * cur/ again as a writable snapshot of it, so the VPS stands where the
 * snapshot did with its stack as it was then (no layer more). 1 when done
 * so, 0 when the layer is no subvolume (restored from an archive). */
static int cur_from_layer(const struct vps_snap_base *b, unsigned id, struct berth_err *err)
{
        if (!b->btrfs)
                return 0;
        char l[PATH_MAX], n[16];
        at(b, VPS_SNAP_LAYERS, l);
        snprintf(n, sizeof(n), "%u", id);
        _cleanup_close_ int lfd = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lfd < 0 || !vps_btrfs_is_subvol(lfd, n))
                return 0;
        _cleanup_close_ int src = openat(lfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int base = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0 || base < 0)
                return berth_err_sys(err, errno, "open layer %u", id);
        int r = vps_btrfs_snapshot(src, base, VPS_BTRFS_CUR, false);
        return r < 0 ? vps_err_write(err, -r, b->path, "snapshot layer %u as the upper layer", id) : 1;
}

/* Restore, from its journal on: also its normal path. */
static int recover_backup(struct vps_snap_base *b, const struct vps_snap_pending *p, char *what, size_t len,
                          struct berth_err *err)
{
        int r = p->thaw ? thaw(b, err) : 0;
        char name[32];
        snprintf(name, sizeof(name), ".backup.%u", p->layer);
        snprintf(what, len, "ended an interrupted backup%s", p->thaw ? "; VPS thawed" : "");
        char l[PATH_MAX];
        at(b, VPS_SNAP_LAYERS, l);
        _cleanup_close_ int fd = r < 0 ? -1 : open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = rm_at(fd, name, err);
        return r;
}

static int finish_restore(struct vps_snap_base *b, struct vps_snaps *s, const char *snap,
                          struct berth_err *err)
{
        struct vps_snap *sn = vps_snaps_find(s, snap);
        if (!sn || !sn->n_layers)
                return berth_err_set(err, ENOENT, "snapshot %s does not exist", snap);
        char upper[PATH_MAX], old[PATH_MAX], top[PATH_MAX];
        cur_at(b, upper);
        layer_at(b, ".rm.upper", old);
        layer_content_at(b, sn->layers[0], top);
        int r = layers_dir(b, err);
        if (r < 0)
                return r;
        /* Once the old upper is aside, an upper is the new one. */
        if (access(old, F_OK) == 0)
                r = rm(upper, err);
        else if (access(upper, F_OK) == 0 && rename(upper, old) < 0)
                r = berth_err_sys(err, errno, "rename %s to %s", upper, old);
        int from = r >= 0 ? cur_from_layer(b, sn->layers[0], err) : 0;
        if (from < 0)
                r = from;
        else if (r >= 0 && from == 0)
                r = make_cur(b, upper, top, err);
        if (r >= 0)
                r = sync_dirs(b, err);
        unsigned *l = r >= 0 ? calloc(sn->n_layers + 1, sizeof(*l)) : NULL;
        if (r >= 0 && !l)
                r = berth_err_set(err, ENOMEM, "out of memory");
        if (r < 0)
                return r;
        size_t skip = from > 0 ? 1 : 0; /* the top layer is the upper again */
        if (sn->n_layers > skip)
                memcpy(l, sn->layers + skip, (sn->n_layers - skip) * sizeof(*l));
        free(s->lowers);
        s->lowers = l;
        s->n_lowers = sn->n_layers - skip;
        s->rotate = false;
        if ((r = vps_snaps_save(b->dir, s, err)) < 0 || (r = rm(old, err)) < 0)
                return r;
        return vps_snap_gc(b, s, err);
}

int vps_snap_recover(struct vps_snap_base *b, char *what, size_t len, struct berth_err *err)
{
        char buf[256];
        if (!what)
                what = buf, len = sizeof(buf);
        what[0] = 0;
        struct vps_snap_pending p;
        int r = vps_snap_pending_load(b->dir, &p, err);
        if (r <= 0)
                return r;
        struct vps_snaps s;
        if ((r = vps_snaps_load(b->dir, &s, err)) < 0)
                return r;
        switch (p.op) {
        case VPS_SNAP_OP_ROTATE:
                r = recover_rotate(b, &s, &p, what, len, err);
                break;
        case VPS_SNAP_OP_COPY:
                r = recover_copy(b, &s, &p, what, len, err);
                break;
        case VPS_SNAP_OP_BACKUP:
                r = recover_backup(b, &p, what, len, err);
                break;
        case VPS_SNAP_OP_RESTORE:
                snprintf(what, len, "completed the restore of snapshot %s", p.snap);
                r = finish_restore(b, &s, p.snap, err);
                /* Its snapshot is gone: nothing to complete. */
                if (r == -ENOENT)
                        r = 0;
                break;
        }
        if (r >= 0)
                r = vps_snap_pending_drop(b->dir, err);
        if (r >= 0)
                vps_trace(b->v, "VPS %s: snapshot journal: %s", b->cfg->name, what);
        vps_snaps_clear(&s);
        return r < 0 ? berth_err_wrap(err, "recover an interrupted snapshot operation") : 0;
}

/* ---- the operations ---- */

static int too_deep(const struct vps_snap_base *b, size_t n, struct berth_err *err)
{
        if (n < BERTH_VPS_SNAP_MAX_LAYERS)
                return 0;
        return berth_err_set(err, EMLINK,
                             "VPS %s has %zu layers below its upper already (at most %d): restore an older "
                             "snapshot to make its stack shallower",
                             b->cfg->name, n, BERTH_VPS_SNAP_MAX_LAYERS);
}

/* On failure after the journal: undo through the recovery. */
static int undo(struct vps_snap_base *b, int r)
{
        struct berth_err e = {0};
        if (vps_snap_recover(b, NULL, 0, &e) < 0)
                vps_warn(b->v, "VPS %s: %s (`berth vps repair %s` tries again)", b->cfg->name, e.msg,
                         b->cfg->name);
        return r;
}

int vps_snap_rotate(struct vps_snap_base *b, struct vps_snaps *s, const char *snap, struct berth_err *err)
{
        int r = too_deep(b, s->n_lowers, err);
        if (r < 0)
                return r;
        unsigned id = s->next;
        struct vps_snap_pending p = {.op = VPS_SNAP_OP_ROTATE, .layer = id};
        snprintf(p.snap, sizeof(p.snap), "%s", snap ? snap : "");
        char upper[PATH_MAX], layer[PATH_MAX], content[PATH_MAX];
        cur_at(b, upper);
        layer_id_at(b, id, layer);
        if ((r = layers_dir(b, err)) < 0 || (r = vps_snap_pending_save(b->dir, &p, err)) < 0)
                return r;
        if (rename(upper, layer) < 0)
                return undo(b, berth_err_sys(err, errno, "rename %s to %s", upper, layer));
        layer_content_at(b, id, content);
        if ((r = make_cur(b, upper, content, err)) < 0 || (r = sync_dirs(b, err)) < 0)
                return undo(b, r);
        s->next = id + 1;
        s->rotate = false;
        if ((r = vps_snaps_push(s, id, err)) < 0 ||
            (snap && (r = vps_snaps_add(s, snap, false, s->lowers, s->n_lowers, err)) < 0) ||
            (r = vps_snaps_save(b->dir, s, err)) < 0)
                return undo(b, r);
        return vps_snap_pending_drop(b->dir, err);
}

/* btrfs: cur/ synced (what the frozen guest wrote is on disk: the
 * snapshot is what it would read back) and snapshotted read-only as
 * tmp. Constant time: no data is read or written. */
static int snapshot_cur(struct vps_snap_base *b, const char *tmp, struct berth_err *err)
{
        char cur[PATH_MAX], l[PATH_MAX];
        cur_at(b, cur);
        at(b, VPS_SNAP_LAYERS, l);
        int r = vps_btrfs_snapshot_synced(cur, l, strrchr(tmp, '/') + 1, err);
        if (r < 0 && (err->code == ENOSPC || err->code == EDQUOT))
                return vps_err_write(err, err->code, b->path, "snapshot the subvolume %s", cur);
        return r;
}

/* The copy itself, while frozen. */
static int copy_upper(struct vps_snap_base *b, const char *tmp, struct berth_err *err)
{
        if (b->btrfs)
                return snapshot_cur(b, tmp, err);
        char upper[PATH_MAX];
        at(b, "upper", upper);
        /* Owners, modes, xattrs (overlay's whiteouts and opaque marks),
         * hard links, sparse files: cp -a; shared blocks where the file
         * system has reflinks. */
        const char *argv[] = {"cp", "-a", "--reflink=auto", upper, tmp, NULL};
        int r = vps_storage_run(argv, err);
        return r < 0 ? berth_err_wrap(err, "copy the upper layer") : 0;
}

/* After the thaw (a busy host's syncfs takes a while): on disk before
 * it is named. */
static int commit_copy(struct vps_snap_base *b, const char *tmp, const char *layer, struct berth_err *err)
{
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) < 0)
                return berth_err_sys(err, errno, "sync %s", tmp);
        if (rename(tmp, layer) < 0)
                return berth_err_sys(err, errno, "rename %s to %s", tmp, layer);
        return sync_dirs(b, err);
}

int vps_snap_copy(struct vps_snap_base *b, struct vps_snaps *s, const char *snap, bool live,
                  struct berth_cgroup *cg, struct berth_err *err)
{
        int r = too_deep(b, s->n_lowers + 1, err);
        if (r < 0)
                return r;
        unsigned id = s->next;
        struct vps_snap_pending p = {.op = VPS_SNAP_OP_COPY, .layer = id, .thaw = cg != NULL};
        snprintf(p.snap, sizeof(p.snap), "%s", snap);
        char tmp[PATH_MAX], layer[PATH_MAX], n[32];
        snprintf(n, sizeof(n), ".new.%u", id);
        layer_at(b, n, tmp);
        layer_id_at(b, id, layer);
        if ((r = layers_dir(b, err)) < 0 || (r = vps_snap_pending_save(b->dir, &p, err)) < 0)
                return r;
        /* Frozen: nothing in the VPS writes while its upper is copied. */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (cg && (r = berth_cgroup_freeze(cg, true, err)) < 0)
                return undo(b, r);
        r = copy_upper(b, tmp, err);
        struct berth_err terr = {0};
        if (cg && berth_cgroup_freeze(cg, false, &terr) < 0 && r >= 0)
                r = berth_err_set(err, terr.code, "thaw: %s", terr.msg);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        vps_trace(b->v, "VPS %s: %s for %ld ms for the snapshot's %s", b->cfg->name, cg ? "frozen" : "held",
                  (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
                  b->btrfs ? "subvolume" : "copy");
        if (r >= 0)
                r = commit_copy(b, tmp, layer, err);
        if (r < 0)
                return undo(b, r);
        _cleanup_free_ unsigned *l = calloc(s->n_lowers + 2, sizeof(*l));
        if (!l)
                return undo(b, berth_err_set(err, ENOMEM, "out of memory"));
        l[0] = id;
        if (s->n_lowers) /* lowers is NULL without any */
                memcpy(l + 1, s->lowers, s->n_lowers * sizeof(*l));
        s->next = id + 1;
        /* The next start makes the upper a layer: the next copy is small.
         * A subvolume snapshot costs the same whatever the upper holds. */
        s->rotate = !b->btrfs;
        if ((r = vps_snaps_add(s, snap, live, l, s->n_lowers + 1, err)) < 0 ||
            (r = vps_snaps_save(b->dir, s, err)) < 0)
                return undo(b, r);
        return vps_snap_pending_drop(b->dir, err);
}

int vps_snap_restore(struct vps_snap_base *b, struct vps_snaps *s, const char *snap, struct berth_err *err)
{
        struct vps_snap_pending p = {.op = VPS_SNAP_OP_RESTORE};
        snprintf(p.snap, sizeof(p.snap), "%s", snap);
        int r = vps_snap_pending_save(b->dir, &p, err);
        if (r >= 0)
                r = finish_restore(b, s, snap, err);
        if (r >= 0)
                r = vps_snap_pending_drop(b->dir, err);
        /* A failure leaves the journal: the next start or repair completes it. */
        return r;
}

/* ---- start and repair ---- */

static bool dir_empty(const char *path)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        return false;
        return true;
}

int vps_snap_start_prepare(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *base, struct berth_err *err)
{
        struct vps_snap_base b;
        vps_snap_base_at(v, cfg, base, &b);
        struct vps_snaps s;
        int r = vps_snap_recover(&b, NULL, 0, err);
        if (r < 0 || (r = vps_snaps_load(b.dir, &s, err)) < 0)
                return r;
        if (s.rotate) {
                char upper[PATH_MAX];
                at(&b, upper_rel(&b), upper);
                /* After a live snapshot: what the upper holds becomes a layer. */
                if (dir_empty(upper) || s.n_lowers >= BERTH_VPS_SNAP_MAX_LAYERS) {
                        s.rotate = false;
                        r = vps_snaps_save(b.dir, &s, err);
                } else {
                        r = vps_snap_rotate(&b, &s, NULL, err);
                        if (r >= 0)
                                vps_trace(v,
                                          "VPS %s: upper layer rotated into layer %u after a live snapshot",
                                          cfg->name, s.lowers[0]);
                }
        }
        vps_snaps_clear(&s);
        return r;
}

int vps_snap_overlay_mount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *base, const char *lower, const char *target, struct berth_err *err)
{
        char dir[PATH_MAX], upper[PATH_MAX], work[PATH_MAX];
        struct vps_snap_base b;
        vps_snap_base_at(v, cfg, base, &b);
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        at(&b, upper_rel(&b), upper);
        at(&b, work_rel(&b), work);
        struct vps_snaps s;
        int r = vps_snaps_load(dir, &s, err);
        if (r < 0)
                return r;
        if (s.n_lowers == 0) {
                vps_snaps_clear(&s);
                return berth_overlay_mount(lower, upper, work, target, err);
        }
        if (strpbrk(lower, ",:\\")) {
                vps_snaps_clear(&s);
                return berth_err_set(err, EINVAL,
                                     "overlay lowerdir \"%s\": ',', ':' and '\\' are not allowed", lower);
        }
        /* Layer paths relative to base (the mount resolves them from our
         * working directory) keep even 200 layers within the one page of
         * mount(2)'s options; fsconfig(2) takes only 256 bytes a value. */
        char data[4096], l[PATH_MAX], rel[64];
        at(&b, VPS_SNAP_LAYERS, l);
        _cleanup_close_ int lfd = b.btrfs ? open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        size_t n = (size_t)snprintf(data, sizeof(data), "lowerdir=");
        for (size_t i = 0; i < s.n_lowers && n < sizeof(data); i++) {
                layer_rel(&b, lfd, s.lowers[i], rel, sizeof(rel));
                n += (size_t)snprintf(data + n, sizeof(data) - n, "%s:", rel);
        }
        if (n < sizeof(data))
                n += (size_t)snprintf(data + n, sizeof(data) - n,
                                      "%s,upperdir=%s,workdir=%s,index=off,xino=off", lower, upper_rel(&b),
                                      work_rel(&b));
        size_t depth = s.n_lowers;
        vps_snaps_clear(&s);
        if (n >= sizeof(data))
                return berth_err_set(err, E2BIG, "overlay options of %zu layers too long", depth);
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cwd < 0 || chdir(base) < 0)
                return berth_err_sys(err, errno, "chdir %s", base);
        r = mount("berth-vps", target, "overlay", 0, data) < 0 ? -errno : 0;
        if (fchdir(cwd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                return berth_err_sys(err, -r, "mount overlay of %zu snapshot layers on %s", depth, target);
        vps_trace(v, "VPS %s: overlay of %zu snapshot layers over the template", cfg->name, depth);
        return 0;
}

/* In a child in a mount namespace of its own (the image gets mounted). */
static int repair_child(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, int fd)
{
        struct berth_err e = {0};
        struct vps_snap_base b;
        char what[256] = "";
        int r = berth_private_mount_ns(&e);
        if (r >= 0 && (r = vps_snap_base_open(v, cfg, &b, &e)) >= 0) {
                r = vps_snap_recover(&b, what, sizeof(what), &e);
                vps_snap_base_close(&b);
        }
        const char *msg = r < 0 ? e.msg : what;
        return write(fd, msg, strlen(msg)) < 0 || r < 0 ? 1 : 0;
}

int vps_snap_repair(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, bool running,
                    bool dry_run, char *what, size_t len, struct berth_err *err)
{
        char dir[PATH_MAX];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        struct vps_snap_pending p;
        int r = vps_snap_pending_load(dir, &p, err);
        if (r <= 0 || (running && p.op != VPS_SNAP_OP_COPY && p.op != VPS_SNAP_OP_BACKUP))
                return r < 0 ? r : 0;
        static const char *const ops[] = {"snapshot", "live snapshot", "snapshot restore", "backup"};
        snprintf(what, len, "complete or undo an interrupted %s%s%s", ops[p.op], p.snap[0] ? " " : "",
                 p.snap);
        if (dry_run)
                return 1;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "pipe");
        pid_t pid = fork();
        if (pid == 0)
                _exit(repair_child(v, cfg, pfd[1]));
        close(pfd[1]);
        char msg[256];
        ssize_t n = pid < 0 ? -1 : read(pfd[0], msg, sizeof(msg) - 1);
        close(pfd[0]);
        msg[n > 0 ? n : 0] = 0;
        int status = 0;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
                return berth_err_set(err, EIO, "%s", msg[0] ? msg : "the repair's child failed");
        snprintf(what, len, "%s", msg);
        return 1;
}
