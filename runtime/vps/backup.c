// SPDX-License-Identifier: GPL-2.0-or-later
/* vps backup: one archive of a VPS (backup.h has the format).
 *
 * The VPS's lock is held throughout (no start, stop, set or destroy
 * meanwhile). What is read is a "source": the directory holding the
 * VPS's upper layer, made readable (the image backend's file system
 * mounted in our private mount namespace) and consistent (a running VPS's
 * container frozen) by source_open, released by source_close. The source
 * is the live upper layer under a freeze, or on a btrfs image a read-only
 * subvolume snapshot of it taken while frozen (l/.backup.<pid>): the VPS
 * runs on while the archive is written, and the archive code does not
 * know the difference. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/vps.h"
#include "runtime/vps/backup.h"
#include "runtime/vps/disk.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/snapshot.h"

int vps_backup_layers(const struct berth_vps_config *cfg, const char *dir, char *out, size_t len,
                      bool *mounted, struct berth_err *err)
{
        *mounted = false;
        if (cfg->disk.backend != BERTH_VPS_DISK_IMAGE) {
                snprintf(out, len, "%s/upper", dir);
                return 0;
        }
        char dev[64];
        unsigned major, minor;
        int found = vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor);
        int r = vps_image_loop_attach(dir, dev, sizeof(dev), &major, &minor, err);
        if (r < 0)
                return berth_err_wrap(err, "attach the disk image");
        r = vps_image_mount(dir, dev, cfg->disk.fs, err);
        /* Ours (the VPS does not run): the device goes with our mount. */
        if (found <= 0)
                vps_image_loop_release(dev);
        if (r < 0)
                return r;
        *mounted = true;
        /* btrfs: upper/ is in the subvolume cur/ (disk_btrfs.c says why). */
        snprintf(out, len, "%s/" VPS_DISK_MOUNT "%s/upper", dir,
                 cfg->disk.fs == BERTH_VPS_DISK_FS_BTRFS ? "/" VPS_BTRFS_CUR : "");
        return 0;
}

void vps_backup_layers_dir(const struct berth_vps_config *cfg, const char *dir, char *out, size_t len)
{
        snprintf(out, len, "%s%s/" VPS_SNAP_LAYERS, dir,
                 cfg->disk.backend == BERTH_VPS_DISK_IMAGE ? "/" VPS_DISK_MOUNT : "");
}

void vps_backup_layers_done(const char *dir, bool mounted)
{
        if (!mounted)
                return;
        char mnt[PATH_MAX];
        snprintf(mnt, sizeof(mnt), "%s/" VPS_DISK_MOUNT, dir);
        umount2(mnt, MNT_DETACH);
}

/* ---- the source ---- */

struct source {
        char dir[PATH_MAX];   /* the VPS's directory */
        char upper[PATH_MAX]; /* the tree to archive */
        bool mounted;
        char frozen_id[BERTH_VPS_ID_MAX]; /* the container we froze ("" none) */
        bool froze;                       /* we froze it (for the copy, or for its snapshot) */
        char snap[32];                    /* btrfs: our snapshot in l/ ("" none) */
        bool journaled;                   /* snapshot.pending records the freeze */
};

/* Recorded before the freeze, so that a backup killed while the VPS is
 * frozen, or while its snapshot exists, leaves a journal that `vps
 * repair`, the next start or snapshot command ends (snapshot_layers.c:
 * thaw, remove the snapshot). One interrupted operation at a time: an
 * older journal is finished first. */
static int journal_freeze(const char *name, struct source *src, struct berth_err *err)
{
        struct vps_snap_pending p;
        int r = vps_snap_pending_load(src->dir, &p, err);
        if (r > 0)
                return berth_err_set(
                    err, EBUSY,
                    "VPS %s: an interrupted snapshot or backup is pending: `berth vps repair` "
                    "ends it",
                    name);
        if (r < 0)
                return r;
        p = (struct vps_snap_pending){.op = VPS_SNAP_OP_BACKUP, .layer = (unsigned)getpid(), .thaw = true};
        if ((r = vps_snap_pending_save(src->dir, &p, err)) < 0)
                return r;
        src->journaled = true;
        return 0;
}

static void layers_of(const struct source *src, char *out)
{
        snprintf(out, PATH_MAX, "%s/" VPS_DISK_MOUNT "/" VPS_SNAP_LAYERS, src->dir);
}

/* btrfs, the VPS frozen: its cur/ synced and snapshotted read-only as
 * l/.backup.<pid> (constant time), whose upper/ is then the source. A
 * crash leaves it to the next snapshot command's gc (a dot name). */
static int source_snapshot(struct source *src, struct berth_err *err)
{
        char l[PATH_MAX], cur[PATH_MAX];
        layers_of(src, l);
        snprintf(cur, sizeof(cur), "%s/" VPS_DISK_MOUNT "/" VPS_BTRFS_CUR, src->dir);
        if (mkdir(l, 0700) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", l);
        char name[32];
        snprintf(name, sizeof(name), ".backup.%d", (int)getpid());
        int r = vps_btrfs_snapshot_synced(cur, l, name, err);
        if (r < 0)
                return r;
        snprintf(src->snap, sizeof(src->snap), "%s", name);
        snprintf(src->upper, sizeof(src->upper), "%s/%s/upper", l, name);
        return 0;
}

static void source_thaw(const struct berth_vps_ctx *v, struct source *src)
{
        if (!src->frozen_id[0])
                return;
        struct berth_err e = {0};
        if (berth_container_resume(v->ctx, src->frozen_id, &e) < 0)
                vps_warn(v, "%s; `berth resume %s` thaws it", e.msg, src->frozen_id);
        src->frozen_id[0] = '\0';
}

static int source_open(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, int status,
                       struct source *src, struct berth_err *err)
{
        int r = berth_vps_path(v, cfg->name, NULL, src->dir, sizeof(src->dir));
        if (r < 0)
                return berth_err_set(err, ENAMETOOLONG, "VPS %s: path too long", cfg->name);
        if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE && (r = berth_private_mount_ns(err)) < 0)
                return r;
        if ((r = vps_backup_layers(cfg, src->dir, src->upper, sizeof(src->upper), &src->mounted, err)) < 0)
                return r;
        /* A paused VPS stays as it is; a running one is frozen for the copy. */
        if (status == BERTH_STATUS_RUNNING || status == BERTH_STATUS_CREATED) {
                char id[BERTH_VPS_ID_MAX];
                berth_vps_container_id(v, cfg->name, id, sizeof(id));
                if ((r = journal_freeze(cfg->name, src, err)) < 0)
                        return r;
                if ((r = berth_container_pause(v->ctx, id, err)) < 0)
                        return berth_err_wrap(err, "freeze VPS %s for a consistent copy", cfg->name);
                snprintf(src->frozen_id, sizeof(src->frozen_id), "%s", id);
                src->froze = true;
                vps_trace(v, "VPS %s: frozen for the backup", cfg->name);
                if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE && cfg->disk.fs == BERTH_VPS_DISK_FS_BTRFS) {
                        if ((r = source_snapshot(src, err)) < 0)
                                return r;
                        source_thaw(v, src);
                        vps_trace(v, "VPS %s: thawed; the backup reads its snapshot %s", cfg->name,
                                  src->snap);
                }
        }
        return 0;
}

static void source_close(const struct berth_vps_ctx *v, struct source *src)
{
        source_thaw(v, src);
        if (src->snap[0]) {
                char l[PATH_MAX];
                layers_of(src, l);
                _cleanup_close_ int lfd = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int r = lfd < 0 ? -errno : vps_btrfs_subvol_delete(lfd, src->snap);
                if (r < 0)
                        vps_warn(v, "could not delete the backup's snapshot %s/%s: %s", l, src->snap,
                                 strerror(-r));
                src->snap[0] = '\0';
        }
        vps_backup_layers_done(src->dir, src->mounted);
        src->mounted = false;
        struct berth_err e = {0};
        if (src->journaled && vps_snap_pending_drop(src->dir, &e) < 0)
                vps_warn(v, "%s", e.msg);
        src->journaled = false;
}

/* ---- the manifest ---- */

/* The VPS's snapshots.json (NULL without snapshots). */
static int snapshots_doc(const char *dir, json_t **doc, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_FILE, dir);
        json_error_t je;
        *doc = NULL;
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "%s", path);
        *doc = json_load_file(path, 0, &je);
        return *doc ? 0 : berth_err_set(err, EUCLEAN, "%s is damaged: %s", path, je.text);
}

static char *manifest_text(const struct berth_vps_config *cfg, const char *checksum, bool with_template,
                           json_t *snapshots)
{
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        json_t *vps = vps_config_json(cfg);
        if (!vps)
                return NULL;
        _cleanup_json_ json_t *doc = json_pack(
            "{s:s, s:i, s:s, s:o, s:s, s:{s:s, s:s, s:b}}", "format", VPS_BACKUP_FORMAT, "version",
            VPS_BACKUP_VERSION, "created", stamp, "vps", vps, "ids", cfg->userns.enabled ? "guest" : "host",
            "template", "name", cfg->template_name, "checksum", checksum, "included", with_template);
        if (doc && snapshots && json_object_set(doc, "snapshots", snapshots) < 0)
                return NULL;
        return doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
}

/* A btrfs image's layers one by one: a subvolume's content is its upper/
 * (beside its overlay work/), archived as l/<id> as on ext4. */
static int write_btrfs_layers(struct vps_archive_out *out, const char *layers, const struct vps_idshift *s,
                              bool progress, struct berth_err *err)
{
        _cleanup_close_ int fd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(dup(fd)) : NULL;
        if (!d)
                return berth_err_sys(err, errno, "list %s", layers);
        struct dirent *de;
        int r = 0;
        for (int pass = progress ? 0 : 1; pass < 2 && r >= 0; pass++) {
                rewinddir(d);
                while (r >= 0 && (de = readdir(d))) {
                        char *end, path[PATH_MAX], prefix[64];
                        strtoul(de->d_name, &end, 10);
                        if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end)
                                continue; /* half-made ones (.new.N, .rm.upper) */
                        snprintf(path, sizeof(path), "%s/%s%s", layers, de->d_name,
                                 vps_btrfs_is_subvol(fd, de->d_name) ? "/upper" : "");
                        snprintf(prefix, sizeof(prefix), VPS_BACKUP_LAYERS "/%s", de->d_name);
                        if (pass == 0)
                                vps_archive_out_expect(out, vps_tree_bytes(path));
                        else
                                r = vps_archive_out_tree(out, path, prefix, s, err);
                }
        }
        return r;
}

/* upper/, then the layers beside it (l/: a VPS with snapshots). */
static int write_layers(struct vps_archive_out *out, const struct berth_vps_config *cfg, const char *dir,
                        const char *upper, const struct vps_idshift *s, bool progress, struct berth_err *err)
{
        char layers[PATH_MAX];
        vps_backup_layers_dir(cfg, dir, layers, sizeof(layers));
        bool has_layers = access(layers, F_OK) == 0;
        bool btrfs = cfg->disk.backend == BERTH_VPS_DISK_IMAGE && cfg->disk.fs == BERTH_VPS_DISK_FS_BTRFS;
        if (progress)
                vps_archive_out_expect(out, vps_tree_bytes(upper) +
                                                (has_layers && !btrfs ? vps_tree_bytes(layers) : 0));
        int r = vps_archive_out_tree(out, upper, VPS_BACKUP_UPPER, s, err);
        if (r >= 0 && has_layers)
                r = btrfs ? write_btrfs_layers(out, layers, s, progress, err)
                          : vps_archive_out_tree(out, layers, VPS_BACKUP_LAYERS, s, err);
        return r;
}

/* template/template.json and template/rootfs/ (ids as they are: a
 * template holds the guests' ids already). */
static int write_template(const struct berth_vps_ctx *v, struct vps_archive_out *out, const char *tmpl,
                          const char *rootfs, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/templates/%s/template.json", v->data_dir, tmpl);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 16 << 20, &text, &len);
        if (r >= 0)
                r = vps_archive_out_file(out, VPS_BACKUP_TEMPLATE "/template.json", text, len, err);
        else if (r == -ENOENT)
                r = 0;
        else
                r = berth_err_sys(err, -r, "read %s", path);
        return r < 0 ? r : vps_archive_out_tree(out, rootfs, VPS_BACKUP_TEMPLATE "/rootfs", NULL, err);
}

static double since(const struct timespec *t0)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int backup_locked(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, int status,
                         int fd, const struct berth_vps_backup_opts *o, bool compress,
                         struct berth_vps_archive_result *res, struct berth_err *err)
{
        struct berth_vps_template t;
        char sum[VPS_BACKUP_SUM_LEN];
        int r = berth_vps_template_load(v, cfg->template_name, &t, err);
        if (r < 0)
                return r;
        char tdir[PATH_MAX];
        snprintf(tdir, sizeof(tdir), "%s/templates/%s", v->data_dir, cfg->template_name);
        r = vps_template_checksum(tdir, sum, err);
        char dir[PATH_MAX];
        _cleanup_json_ json_t *snaps = NULL;
        if (r >= 0 && berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir)) < 0)
                r = berth_err_set(err, ENAMETOOLONG, "VPS %s: path too long", cfg->name);
        if (r >= 0)
                r = snapshots_doc(dir, &snaps, err);
        _cleanup_free_ char *manifest = r >= 0 ? manifest_text(cfg, sum, o->with_template, snaps) : NULL;
        if (r >= 0 && !manifest)
                r = berth_err_set(err, ENOMEM, "out of memory");
        struct vps_progress p = {.fn = o->progress, .arg = o->arg};
        struct vps_archive_out *out = r >= 0 ? vps_archive_out_new(fd, compress, &p, err) : NULL;
        if (r >= 0 && !out)
                r = -err->code;
        if (r >= 0)
                r = vps_archive_out_file(out, VPS_BACKUP_MANIFEST, manifest, strlen(manifest), err);
        if (r >= 0 && o->with_template)
                r = write_template(v, out, cfg->template_name, t.rootfs, err);
        berth_vps_template_clear(&t);
        struct source src = {0};
        struct vps_idshift s;
        vps_idshift_of(cfg, &s);
        if (r >= 0 && (r = source_open(v, cfg, status, &src, err)) >= 0) {
                res->frozen = src.froze;
                r = write_layers(out, cfg, src.dir, src.upper, &s, o->progress != NULL, err);
        }
        source_close(v, &src);
        if (r >= 0)
                r = vps_archive_out_close(out, err);
        if (out)
                vps_archive_out_counts(out, &res->bytes, &res->files);
        vps_archive_out_free(out);
        return r;
}

int vps_backup_fd(const struct berth_vps_ctx *v, const char *name, int fd,
                  const struct berth_vps_backup_opts *o, bool compress, struct berth_vps_archive_result *res,
                  struct berth_err *err)
{
        memset(res, 0, sizeof(*res));
        if (!berth_vps_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", name ? name : "");
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct berth_vps_config cfg;
        int status;
        _cleanup_close_ int lock = vps_open_locked(v, name, &cfg, &status, err);
        if (lock < 0)
                return berth_err_wrap(err, "back up VPS %s", name);
        int r =
            status == BERTH_STATUS_UNKNOWN
                ? berth_err_set(err, EUCLEAN, "its container state is damaged (`berth vps repair %s`)", name)
                : backup_locked(v, &cfg, status, fd, o, compress, res, err);
        berth_vps_config_clear(&cfg);
        res->seconds = since(&t0);
        if (r >= 0)
                vps_trace(v, "VPS %s: backed up: %llu bytes, %llu entries in %.2f s", name,
                          (unsigned long long)res->bytes, (unsigned long long)res->files, res->seconds);
        return r < 0 ? berth_err_wrap(err, "back up VPS %s", name) : 0;
}

int berth_vps_backup(const struct berth_vps_ctx *v, const char *name, int fd,
                     const struct berth_vps_backup_opts *o, struct berth_vps_archive_result *res,
                     struct berth_err *err)
{
        return vps_backup_fd(v, name, fd, o, true, res, err);
}
