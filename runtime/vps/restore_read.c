// SPDX-License-Identifier: GPL-2.0-or-later
/* A backup archive back onto disk (backup.h has the format): libarchive
 * reads and decompresses the stream, each entry is made here, because ids
 * in owners, file capabilities and ACLs are shifted into the new VPS's
 * range on the way (backup_ids.c) and because the archive is untrusted
 * input: every path is resolved below the destination without following
 * a symlink (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so an entry
 * cannot write outside it.
 *
 * Order per entry: create, owner, mode (after the owner: chown clears
 * set-id bits), xattrs (after the owner: chown clears
 * security.capability), times. Directories get their times at the end,
 * once nothing is made in them any more. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/backup.h"

#ifdef BERTH_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>

#include "runtime/vps/template/archive_dl.h"

#define MANIFEST_MAX (16 << 20)
#define XATTR_MAX    65536

struct dir_time {
        char *rel;
        struct timespec ts[2];
};

struct vps_archive_in {
        struct archive *a;
        struct archive_entry *cur;
        bool pending, eof;
        struct vps_progress progress;
        uint64_t bytes, files;
        struct timespec last;
        /* The parent directory of the last entry, kept open: entries
         * come directory by directory. */
        char parent[PATH_MAX];
        int parent_fd;
        struct dir_time *dirs;
        size_t n_dirs;
};

static int ar_fail(struct vps_archive_in *in, struct berth_err *err, const char *what)
{
        const char *msg = AR(archive_error_string)(in->a);
        return berth_err_set(err, EBADMSG, "damaged or truncated archive: %s: %s", what,
                             msg ? msg : "read error");
}

struct vps_archive_in *vps_archive_in_new(int fd, const struct vps_progress *p, struct berth_err *err)
{
        if (archive_load(err) < 0)
                return NULL;
        struct vps_archive_in *in = calloc(1, sizeof(*in));
        if (!in || !(in->a = AR(archive_read_new)())) {
                free(in);
                berth_err_set(err, ENOMEM, "out of memory");
                return NULL;
        }
        in->parent_fd = -EBADF;
        if (p)
                in->progress = *p;
        AR(archive_read_support_filter_zstd)(in->a);
        AR(archive_read_support_format_tar)(in->a);
        if (AR(archive_read_open_fd)(in->a, fd, 1 << 16) != ARCHIVE_OK) {
                ar_fail(in, err, "open");
                vps_archive_in_free(in);
                return NULL;
        }
        clock_gettime(CLOCK_MONOTONIC, &in->last);
        return in;
}

static void dir_times_clear(struct vps_archive_in *in)
{
        for (size_t i = 0; i < in->n_dirs; i++)
                free(in->dirs[i].rel);
        free(in->dirs);
        in->dirs = NULL;
        in->n_dirs = 0;
}

void vps_archive_in_free(struct vps_archive_in *in)
{
        if (!in)
                return;
        if (in->a)
                AR(archive_read_free)(in->a);
        if (in->parent_fd >= 0)
                close(in->parent_fd);
        dir_times_clear(in);
        free(in);
}

void vps_archive_in_counts(const struct vps_archive_in *in, uint64_t *bytes, uint64_t *files)
{
        *bytes = in->bytes;
        *files = in->files;
}

/* The next entry (left pending until taken); 0 at the end. */
static int peek(struct vps_archive_in *in, struct berth_err *err)
{
        if (in->pending)
                return 1;
        if (in->eof)
                return 0;
        int r = AR(archive_read_next_header)(in->a, &in->cur);
        if (r == ARCHIVE_EOF) {
                in->eof = true;
                return 0;
        }
        if (r < ARCHIVE_WARN)
                return ar_fail(in, err, "header");
        in->pending = true;
        return 1;
}

static void tick(struct vps_archive_in *in, bool done)
{
        if (!in->progress.fn)
                return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - in->last.tv_sec) * 1000 + (now.tv_nsec - in->last.tv_nsec) / 1000000;
        if (!done && ms < 200)
                return;
        in->last = now;
        struct berth_vps_progress p = {
            .bytes = in->bytes, .files = in->files, .total = in->progress.total, .done = done};
        in->progress.fn(in->progress.arg, &p);
}

int vps_archive_in_manifest(struct vps_archive_in *in, char **text, size_t *len, struct berth_err *err)
{
        int r = peek(in, err);
        if (r < 0)
                return r;
        if (r == 0 || strcmp(AR(archive_entry_pathname)(in->cur), VPS_BACKUP_MANIFEST))
                return berth_err_set(err, EBADMSG, "not a berth VPS backup (no %s first)",
                                     VPS_BACKUP_MANIFEST);
        int64_t size = AR(archive_entry_size)(in->cur);
        if (size <= 0 || size > MANIFEST_MAX)
                return berth_err_set(err, EBADMSG, "%s: bad size %lld", VPS_BACKUP_MANIFEST, (long long)size);
        char *buf = malloc((size_t)size + 1);
        if (!buf)
                return berth_err_set(err, ENOMEM, "out of memory");
        size_t got = 0;
        while (got < (size_t)size) {
                la_ssize_t n = AR(archive_read_data)(in->a, buf + got, (size_t)size - got);
                if (n <= 0) {
                        free(buf);
                        return ar_fail(in, err, VPS_BACKUP_MANIFEST);
                }
                got += (size_t)n;
        }
        buf[got] = '\0';
        in->pending = false;
        *text = buf;
        *len = got;
        return 0;
}

/* ---- paths ---- */

/* "a/b/c" checked: no empty, "." or ".." component. */
static bool rel_valid(const char *rel)
{
        if (!*rel || rel[0] == '/')
                return false;
        for (const char *p = rel; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += n;
                if (*p == '/')
                        p++;
        }
        return rel[strlen(rel) - 1] != '/';
}

static int open_beneath(int dirfd, const char *path)
{
        struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                          RESOLVE_NO_XDEV};
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

/* The directory holding rel (below root), and rel's last component. */
static int parent_of(struct vps_archive_in *in, int root, const char *rel, const char **name)
{
        const char *slash = strrchr(rel, '/');
        *name = slash ? slash + 1 : rel;
        size_t n = slash ? (size_t)(slash - rel) : 1;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)n, slash ? rel : ".");
        if (in->parent_fd >= 0 && !strcmp(dir, in->parent))
                return in->parent_fd;
        int fd = open_beneath(root, dir);
        if (fd < 0)
                return fd;
        if (in->parent_fd >= 0)
                close(in->parent_fd);
        in->parent_fd = fd;
        snprintf(in->parent, sizeof(in->parent), "%s", dir);
        return fd;
}

static void parent_forget(struct vps_archive_in *in)
{
        if (in->parent_fd >= 0)
                close(in->parent_fd);
        in->parent_fd = -EBADF;
        in->parent[0] = '\0';
}

/* ---- one entry ---- */

static int set_xattrs(struct archive_entry *e, int parent, const char *name, const struct vps_idshift *s,
                      const char *rel, struct berth_err *err)
{
        char path[64 + NAME_MAX];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent, name);
        static unsigned char val[XATTR_MAX]; /* not __thread: see backup_sum.c */
        const char *xname;
        const void *xval;
        size_t xlen;
        AR(archive_entry_xattr_reset)(e);
        while (AR(archive_entry_xattr_next)(e, &xname, &xval, &xlen) == ARCHIVE_OK) {
                if (xlen > sizeof(val))
                        return berth_err_set(err, EBADMSG, "%s: xattr %s too long", rel, xname);
                if (xlen) /* an empty value may come as NULL */
                        memcpy(val, xval, xlen);
                int r = vps_xattr_shift(s, false, xname, val, &xlen, sizeof(val));
                if (r < 0)
                        return berth_err_sys(err, -r, "%s: xattr %s malformed", rel, xname);
                if (lsetxattr(path, xname, val, xlen, 0) < 0)
                        return berth_err_sys(err, errno, "%s: set xattr %s", rel, xname);
        }
        return 0;
}

static int write_data(struct vps_archive_in *in, int fd, int64_t size, const char *rel, struct berth_err *err)
{
        for (;;) {
                const void *buf;
                size_t n;
                la_int64_t off;
                int r = AR(archive_read_data_block)(in->a, &buf, &n, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return ar_fail(in, err, rel);
                for (size_t done = 0; done < n;) {
                        ssize_t k = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return berth_err_sys(err, errno, "write %s", rel);
                        done += (size_t)k;
                }
                in->bytes += n;
                tick(in, false);
        }
        /* The size (and trailing hole) of a sparse file. */
        if (ftruncate(fd, (off_t)size) < 0)
                return berth_err_sys(err, errno, "write %s", rel);
        return 0;
}

static int make_node(struct vps_archive_in *in, struct archive_entry *e, int parent, const char *name,
                     const char *rel, struct berth_err *err)
{
        mode_t type = AR(archive_entry_filetype)(e);
        switch (type) {
        case AE_IFDIR:
                if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
                        return berth_err_sys(err, errno, "mkdir %s", rel);
                return 0;
        case AE_IFREG: {
                _cleanup_close_ int fd =
                    openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return berth_err_sys(err, errno, "create %s", rel);
                return write_data(in, fd, AR(archive_entry_size)(e), rel, err);
        }
        case AE_IFLNK: {
                const char *target = AR(archive_entry_symlink)(e);
                if (!target || symlinkat(target, parent, name) < 0)
                        return berth_err_sys(err, target ? errno : EBADMSG, "symlink %s", rel);
                return 0;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
        case AE_IFSOCK:
                if (mknodat(parent, name, type | 0600, AR(archive_entry_rdev)(e)) < 0)
                        return berth_err_sys(err, errno, "mknod %s", rel);
                return 0;
        }
        return berth_err_set(err, EBADMSG, "%s: unknown file type 0%o", rel, (unsigned)type);
}

static int dir_time_add(struct vps_archive_in *in, const char *rel, const struct timespec ts[2])
{
        if (in->n_dirs % 256 == 0) {
                struct dir_time *nv = realloc(in->dirs, (in->n_dirs + 256) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                in->dirs = nv;
        }
        if (!(in->dirs[in->n_dirs].rel = strdup(rel)))
                return -ENOMEM;
        memcpy(in->dirs[in->n_dirs].ts, ts, 2 * sizeof(*ts));
        in->n_dirs++;
        return 0;
}

/* Owner, mode, xattrs, times of what make_node made. */
static int set_meta(struct vps_archive_in *in, struct archive_entry *e, int parent, const char *name,
                    const char *rel, const struct vps_idshift *s, struct berth_err *err)
{
        mode_t type = AR(archive_entry_filetype)(e);
        uid_t uid = vps_id_to_host(s, (uint32_t)AR(archive_entry_uid)(e));
        gid_t gid = vps_id_to_host(s, (uint32_t)AR(archive_entry_gid)(e));
        if (fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_err_sys(err, errno, "chown %s", rel);
        if (type != AE_IFLNK && fchmodat(parent, name, AR(archive_entry_mode)(e) & 07777, 0) < 0)
                return berth_err_sys(err, errno, "chmod %s", rel);
        int r = set_xattrs(e, parent, name, s, rel, err);
        if (r < 0)
                return r;
        struct timespec ts[2] = {
            {.tv_sec = AR(archive_entry_atime)(e), .tv_nsec = AR(archive_entry_atime_nsec)(e)},
            {.tv_sec = AR(archive_entry_mtime)(e), .tv_nsec = AR(archive_entry_mtime_nsec)(e)}};
        if (type == AE_IFDIR)
                return dir_time_add(in, rel, ts) < 0 ? berth_err_set(err, ENOMEM, "out of memory") : 0;
        if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_err_sys(err, errno, "set times of %s", rel);
        return 0;
}

static int hard_link(struct vps_archive_in *in, int root, const char *prefix, int parent, const char *name,
                     const char *rel, struct berth_err *err)
{
        const char *target = AR(archive_entry_hardlink)(in->cur);
        size_t plen = strlen(prefix);
        if (strncmp(target, prefix, plen) || target[plen] != '/' || !rel_valid(target + plen + 1))
                return berth_err_set(err, EBADMSG, "%s: hard link to %s, outside %s/", rel, target, prefix);
        const char *tname;
        const char *trel = target + plen + 1;
        const char *slash = strrchr(trel, '/');
        char tdir[PATH_MAX];
        snprintf(tdir, sizeof(tdir), "%.*s", slash ? (int)(slash - trel) : 1, slash ? trel : ".");
        tname = slash ? slash + 1 : trel;
        _cleanup_close_ int tfd = open_beneath(root, tdir);
        if (tfd < 0 || linkat(tfd, tname, parent, name, 0) < 0)
                return berth_err_sys(err, tfd < 0 ? -tfd : errno, "hard link %s to %s", rel, trel);
        return 0;
}

static int extract_one(struct vps_archive_in *in, int root, const char *prefix, const char *rel,
                       const struct vps_idshift *s, struct berth_err *err)
{
        struct archive_entry *e = in->cur;
        if (!*rel) /* the prefix itself: the destination directory */
                return set_meta(in, e, root, ".", ".", s, err);
        if (!rel_valid(rel))
                return berth_err_set(err, EBADMSG, "unsafe path in the archive: %s/%s", prefix, rel);
        const char *name;
        int parent = parent_of(in, root, rel, &name);
        if (parent < 0)
                return berth_err_sys(err, -parent, "%s: its directory", rel);
        if (AR(archive_entry_hardlink)(e))
                return hard_link(in, root, prefix, parent, name, rel, err);
        int r = make_node(in, e, parent, name, rel, err);
        return r < 0 ? r : set_meta(in, e, parent, name, rel, s, err);
}

static int dir_times_apply(struct vps_archive_in *in, int root, struct berth_err *err)
{
        int r = 0;
        for (size_t i = in->n_dirs; r >= 0 && i-- > 0;) {
                const char *rel = in->dirs[i].rel;
                if (utimensat(root, rel, in->dirs[i].ts, AT_SYMLINK_NOFOLLOW) < 0)
                        r = berth_err_sys(err, errno, "set times of %s", rel);
        }
        dir_times_clear(in);
        return r;
}

/* The entry's path below prefix ("" for prefix itself), or NULL when it
 * is outside prefix. */
static const char *below(const char *path, const char *prefix, char *buf, size_t len)
{
        size_t plen = strlen(prefix);
        if (strncmp(path, prefix, plen) || (path[plen] != '/' && path[plen] != '\0'))
                return NULL;
        snprintf(buf, len, "%s", path[plen] ? path + plen + 1 : "");
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '/')
                buf[--n] = '\0';
        return buf;
}

int vps_archive_in_extract(struct vps_archive_in *in, const char *prefix, const char *dest,
                           const struct vps_idshift *s, bool (*skip)(const char *rel), struct berth_err *err)
{
        _cleanup_close_ int root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return berth_err_sys(err, errno, "open %s", dest);
        parent_forget(in);
        int r, count = 0;
        char rel[PATH_MAX];
        while ((r = peek(in, err)) > 0) {
                if (!below(AR(archive_entry_pathname)(in->cur), prefix, rel, sizeof(rel)))
                        break;
                in->pending = false;
                if (skip && *rel && skip(rel))
                        continue;
                if ((r = extract_one(in, root, prefix, rel, s, err)) < 0)
                        break;
                in->files++;
                count++;
                tick(in, false);
        }
        parent_forget(in);
        if (r >= 0)
                r = dir_times_apply(in, root, err);
        dir_times_clear(in);
        return r < 0 ? r : count;
}

int vps_archive_in_skip(struct vps_archive_in *in, const char *prefix, struct berth_err *err)
{
        int r;
        char rel[PATH_MAX];
        while ((r = peek(in, err)) > 0) {
                if (!below(AR(archive_entry_pathname)(in->cur), prefix, rel, sizeof(rel)))
                        break;
                in->pending = false;
                if (AR(archive_read_data_skip)(in->a) < ARCHIVE_WARN)
                        return ar_fail(in, err, AR(archive_entry_pathname)(in->cur));
        }
        return r < 0 ? r : 0;
}

int vps_archive_in_end(struct vps_archive_in *in, struct berth_err *err)
{
        int r = peek(in, err);
        if (r > 0)
                return berth_err_set(err, EBADMSG, "unexpected entry in the archive: %s",
                                     AR(archive_entry_pathname)(in->cur));
        if (r == 0)
                tick(in, true);
        return r;
}

#else /* !BERTH_HAVE_LIBARCHIVE */

struct vps_archive_in *vps_archive_in_new(int fd, const struct vps_progress *p, struct berth_err *err)
{
        (void)fd, (void)p;
        berth_err_set(err, ENOTSUP, "berth was built without libarchive: no restore");
        return NULL;
}
int vps_archive_in_manifest(struct vps_archive_in *in, char **text, size_t *len, struct berth_err *err)
{
        (void)in, (void)text, (void)len;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
int vps_archive_in_extract(struct vps_archive_in *in, const char *prefix, const char *dest,
                           const struct vps_idshift *s, bool (*skip)(const char *rel), struct berth_err *err)
{
        (void)in, (void)prefix, (void)dest, (void)s, (void)skip;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
int vps_archive_in_skip(struct vps_archive_in *in, const char *prefix, struct berth_err *err)
{
        (void)in, (void)prefix;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
int vps_archive_in_end(struct vps_archive_in *in, struct berth_err *err)
{
        (void)in;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
void vps_archive_in_free(struct vps_archive_in *in)
{
        (void)in;
}
void vps_archive_in_counts(const struct vps_archive_in *in, uint64_t *bytes, uint64_t *files)
{
        (void)in;
        *bytes = *files = 0;
}
#endif
