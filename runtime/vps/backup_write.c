// SPDX-License-Identifier: GPL-2.0-or-later
/* A directory tree into a backup archive (backup.h has the format):
 * libarchive writes the pax stream and zstd compresses it; the walk and
 * each entry's metadata are ours, because the ids in owners, file
 * capabilities and ACLs are shifted on the way (backup_ids.c), which
 * libarchive's disk reader cannot do.
 *
 * Per entry: lstat; owners shifted; every xattr (llistxattr, so
 * trusted.overlay.* of the overlay's upper layer and security.capability
 * come along); symlink target; device numbers; for a regular file its
 * data, with its holes as a sparse map (SEEK_DATA/SEEK_HOLE) so that a
 * sparse file stays sparse; a second name of an inode is a hard link to
 * the first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/backup.h"

/* Only for the progress bar's total: a quick walk of lstat calls. */
static uint64_t dir_bytes(int dirfd, int depth)
{
        int dup_fd = dup(dirfd);
        _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return 0;
        }
        uint64_t sum = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode) && st.st_nlink == 1)
                        sum += (uint64_t)st.st_size;
                else if (S_ISREG(st.st_mode)) /* counted once overall, roughly */
                        sum += (uint64_t)st.st_size / st.st_nlink;
                if (S_ISDIR(st.st_mode) && depth < 256) {
                        _cleanup_close_ int sub =
                            openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                sum += dir_bytes(sub, depth + 1);
                }
        }
        return sum;
}

uint64_t vps_tree_bytes(const char *root)
{
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? 0 : dir_bytes(fd, 0);
}

#ifdef BERTH_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>

#include "runtime/vps/template/archive_dl.h"

#define CHUNK     (1 << 20)
#define XATTR_MAX 65536

struct link_slot {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct vps_archive_out {
        struct archive *a;
        struct vps_progress progress;
        uint64_t bytes, files;
        struct timespec last;
        struct link_slot *links; /* open addressing on (dev, ino) */
        size_t n_links, cap_links;
        unsigned char *buf; /* CHUNK bytes */
};

static int ar_fail(struct vps_archive_out *o, struct berth_err *err, const char *what)
{
        int code = AR(archive_errno)(o->a);
        return berth_err_set(err, code > 0 ? code : EIO, "%s: %s", what,
                             AR(archive_error_string)(o->a) ? AR(archive_error_string)(o->a)
                                                            : "archive error");
}

struct vps_archive_out *vps_archive_out_new(int fd, bool compress, const struct vps_progress *p,
                                            struct berth_err *err)
{
        if (archive_load(err) < 0)
                return NULL;
        struct vps_archive_out *o = calloc(1, sizeof(*o));
        if (!o || !(o->buf = malloc(CHUNK)) || !(o->a = AR(archive_write_new)())) {
                vps_archive_out_free(o);
                berth_err_set(err, ENOMEM, "out of memory");
                return NULL;
        }
        if (p)
                o->progress = *p;
        int r = AR(archive_write_set_format_pax_restricted)(o->a);
        if (r == ARCHIVE_OK && compress && (r = AR(archive_write_add_filter_zstd)(o->a)) == ARCHIVE_OK) {
                /* zstd's default level; its worker threads when this
                 * libarchive has them (a second core keeps up with the disk). */
                AR(archive_write_set_filter_option)(o->a, "zstd", "compression-level", "3");
                {
                        char n[16];
                        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                        snprintf(n, sizeof(n), "%ld", cpus > 1 ? (cpus < 8 ? cpus : 8) : 0);
                        AR(archive_write_set_filter_option)(o->a, "zstd", "threads", n);
                }
        }
        if (r == ARCHIVE_OK)
                r = AR(archive_write_open_fd)(o->a, fd);
        if (r != ARCHIVE_OK) {
                ar_fail(o, err, "open the archive");
                vps_archive_out_free(o);
                return NULL;
        }
        clock_gettime(CLOCK_MONOTONIC, &o->last);
        return o;
}

void vps_archive_out_free(struct vps_archive_out *o)
{
        if (!o)
                return;
        if (o->a)
                AR(archive_write_free)(o->a);
        for (size_t i = 0; i < o->cap_links; i++)
                free(o->links[i].path);
        free(o->links);
        free(o->buf);
        free(o);
}

void vps_archive_out_expect(struct vps_archive_out *o, uint64_t bytes)
{
        o->progress.total += o->bytes + bytes;
}

void vps_archive_out_counts(const struct vps_archive_out *o, uint64_t *bytes, uint64_t *files)
{
        *bytes = o->bytes;
        *files = o->files;
}

static void tick(struct vps_archive_out *o, bool done)
{
        if (!o->progress.fn)
                return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - o->last.tv_sec) * 1000 + (now.tv_nsec - o->last.tv_nsec) / 1000000;
        if (!done && ms < 200)
                return;
        o->last = now;
        struct berth_vps_progress p = {
            .bytes = o->bytes, .files = o->files, .total = o->progress.total, .done = done};
        o->progress.fn(o->progress.arg, &p);
}

int vps_archive_out_close(struct vps_archive_out *o, struct berth_err *err)
{
        if (AR(archive_write_close)(o->a) != ARCHIVE_OK)
                return ar_fail(o, err, "finish the archive");
        tick(o, true);
        return 0;
}

static void entry_freep(struct archive_entry **e)
{
        if (*e)
                AR(archive_entry_free)(*e);
}

int vps_archive_out_file(struct vps_archive_out *o, const char *path, const void *data, size_t len,
                         struct berth_err *err)
{
        _cleanup_(entry_freep) struct archive_entry *e = AR(archive_entry_new)();
        if (!e)
                return berth_err_set(err, ENOMEM, "out of memory");
        struct stat st = {.st_mode = S_IFREG | 0600, .st_size = (off_t)len, .st_mtime = time(NULL)};
        AR(archive_entry_copy_stat)(e, &st);
        AR(archive_entry_copy_pathname)(e, path);
        if (AR(archive_write_header)(o->a, e) != ARCHIVE_OK ||
            AR(archive_write_data)(o->a, data, len) != (la_ssize_t)len)
                return ar_fail(o, err, path);
        return 0;
}

/* ---- hard links ---- */

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
        uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4full);
        return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct link_slot *link_find(struct vps_archive_out *o, dev_t dev, ino_t ino)
{
        if (!o->cap_links)
                return NULL;
        for (size_t i = link_hash(dev, ino, o->cap_links);; i = (i + 1) & (o->cap_links - 1))
                if (!o->links[i].path || (o->links[i].dev == dev && o->links[i].ino == ino))
                        return &o->links[i];
}

static int link_grow(struct vps_archive_out *o)
{
        size_t cap = o->cap_links ? o->cap_links * 2 : 256;
        struct link_slot *old = o->links, *nv = calloc(cap, sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        size_t old_cap = o->cap_links;
        o->links = nv;
        o->cap_links = cap;
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].path)
                        *link_find(o, old[i].dev, old[i].ino) = old[i];
        free(old);
        return 0;
}

/* The first path of this inode, or NULL after recording path as it. */
static int link_first(struct vps_archive_out *o, const struct stat *st, const char *path, const char **first)
{
        *first = NULL;
        if ((o->n_links + 1) * 2 > o->cap_links && link_grow(o) < 0)
                return -ENOMEM;
        struct link_slot *s = link_find(o, st->st_dev, st->st_ino);
        if (s->path) {
                *first = s->path;
                return 0;
        }
        if (!(s->path = strdup(path)))
                return -ENOMEM;
        s->dev = st->st_dev;
        s->ino = st->st_ino;
        o->n_links++;
        return 0;
}

/* ---- one entry ---- */

static int add_xattrs(struct archive_entry *e, const char *path, const struct vps_idshift *s,
                      struct berth_err *err)
{
        char names[XATTR_MAX];
        ssize_t n = llistxattr(path, names, sizeof(names));
        if (n < 0)
                return errno == ENOTSUP ? 0 : berth_err_sys(err, errno, "list xattrs of %s", path);
        static unsigned char val[XATTR_MAX]; /* not __thread: see backup_sum.c */
        for (char *name = names; name < names + n; name += strlen(name) + 1) {
                ssize_t m = lgetxattr(path, name, val, sizeof(val));
                if (m < 0 && errno == ENODATA)
                        continue;
                if (m < 0)
                        return berth_err_sys(err, errno, "xattr %s of %s", name, path);
                size_t len = (size_t)m;
                int r = vps_xattr_shift(s, true, name, val, &len, sizeof(val));
                if (r < 0)
                        return berth_err_sys(err, -r, "xattr %s of %s: malformed", name, path);
                AR(archive_entry_xattr_add_entry)(e, name, val, len);
        }
        return 0;
}

/* The data regions of fd as the entry's sparse map; false when the file
 * has no hole (the common case: no map). */
static bool sparse_map(struct archive_entry *e, int fd, const struct stat *st)
{
        if ((uint64_t)st->st_blocks * 512 >= (uint64_t)st->st_size)
                return false;
        off_t pos = 0;
        bool any = false;
        while (pos < st->st_size) {
                off_t data = lseek(fd, pos, SEEK_DATA);
                if (data < 0 || data >= st->st_size)
                        break;
                off_t hole = lseek(fd, data, SEEK_HOLE);
                if (hole < 0 || hole > st->st_size)
                        hole = st->st_size;
                AR(archive_entry_sparse_add_entry)(e, data, hole - data);
                any = true;
                pos = hole;
        }
        /* An all-hole file still needs a map (one empty region at its end). */
        if (!any)
                AR(archive_entry_sparse_add_entry)(e, st->st_size, 0);
        return true;
}

/* The whole file content, holes as zeros (libarchive's pax writer skips
 * the bytes the sparse map calls holes): size bytes exactly, even if the
 * file changed meanwhile. Holes are never read: lseek tells them. */
static int write_data(struct vps_archive_out *o, int fd, off_t size, bool sparse, const char *path,
                      struct berth_err *err)
{
        off_t pos = 0;
        while (pos < size) {
                off_t data = sparse ? lseek(fd, pos, SEEK_DATA) : pos;
                if (data < 0 || data > size)
                        data = size;
                if (data > pos) { /* a hole: zeros the writer drops */
                        memset(o->buf, 0, CHUNK);
                        for (; pos < data;) {
                                size_t k = data - pos < CHUNK ? (size_t)(data - pos) : CHUNK;
                                if (AR(archive_write_data)(o->a, o->buf, k) < 0)
                                        return ar_fail(o, err, path);
                                pos += (off_t)k;
                        }
                        continue;
                }
                size_t want = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
                ssize_t n = pread(fd, o->buf, want, pos);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_err_sys(err, errno, "read %s", path);
                if (n == 0) { /* shrunk meanwhile: zeros to the size archived */
                        memset(o->buf, 0, want);
                        n = (ssize_t)want;
                }
                if (AR(archive_write_data)(o->a, o->buf, (size_t)n) < 0)
                        return ar_fail(o, err, path);
                pos += n;
                o->bytes += (uint64_t)n;
                tick(o, false);
        }
        return 0;
}

static int add_entry(struct vps_archive_out *o, int dirfd, const char *name, const char *path,
                     const char *apath, const struct stat *st, const struct vps_idshift *s,
                     struct berth_err *err)
{
        _cleanup_(entry_freep) struct archive_entry *e = AR(archive_entry_new)();
        if (!e)
                return berth_err_set(err, ENOMEM, "out of memory");
        AR(archive_entry_copy_stat)(e, st);
        AR(archive_entry_copy_pathname)(e, apath);
        AR(archive_entry_set_uid)(e, vps_id_to_guest(s, st->st_uid));
        AR(archive_entry_set_gid)(e, vps_id_to_guest(s, st->st_gid));
        if (!S_ISREG(st->st_mode))
                AR(archive_entry_set_size)(e, 0);
        _cleanup_close_ int fd = -EBADF;
        bool sparse = false;
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_err_sys(err, errno, "readlink %s", path);
                target[n] = '\0';
                AR(archive_entry_copy_symlink)(e, target);
        } else if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
                const char *first;
                if (link_first(o, st, apath, &first) < 0)
                        return berth_err_set(err, ENOMEM, "out of memory");
                if (first) {
                        AR(archive_entry_copy_hardlink)(e, first);
                        AR(archive_entry_set_size)(e, 0);
                }
        }
        if (S_ISREG(st->st_mode) && !AR(archive_entry_hardlink)(e)) {
                fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        return berth_err_sys(err, errno, "open %s", path);
                sparse = sparse_map(e, fd, st);
        }
        int r = add_xattrs(e, path, s, err);
        if (r < 0)
                return r;
        if (AR(archive_write_header)(o->a, e) < ARCHIVE_WARN)
                return ar_fail(o, err, path);
        o->files++;
        if (fd >= 0 && (r = write_data(o, fd, st->st_size, sparse, path, err)) < 0)
                return r;
        tick(o, false);
        return 0;
}

/* ---- the walk ---- */

struct walk {
        struct vps_archive_out *o;
        const struct vps_idshift *s;
        char path[PATH_MAX];  /* host path of the current entry */
        char apath[PATH_MAX]; /* its archive path */
        struct berth_err *err;
};

static int walk_dir(struct walk *w, int dirfd);

/* Appends "/name" to both paths; false when too long. */
static bool push_name(struct walk *w, const char *name, size_t *pl, size_t *al)
{
        *pl = strlen(w->path);
        *al = strlen(w->apath);
        size_t n = strlen(name);
        if (*pl + n + 2 > sizeof(w->path) || *al + n + 2 > sizeof(w->apath))
                return false;
        w->path[*pl] = '/';
        memcpy(w->path + *pl + 1, name, n + 1);
        w->apath[*al] = '/';
        memcpy(w->apath + *al + 1, name, n + 1);
        return true;
}

static int walk_one(struct walk *w, int dirfd, const char *name)
{
        size_t pl, al;
        if (!push_name(w, name, &pl, &al))
                return berth_err_set(w->err, ENAMETOOLONG, "%s/%s: path too long", w->path, name);
        struct stat st;
        int r = 1; /* gone meanwhile (a running VPS's temporary file): skipped */
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = add_entry(w->o, dirfd, name, w->path, w->apath, &st, w->s, w->err);
        else if (errno != ENOENT)
                r = berth_err_sys(w->err, errno, "stat %s", w->path);
        if (r == 0 && S_ISDIR(st.st_mode)) {
                _cleanup_close_ int sub =
                    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = sub < 0 ? berth_err_sys(w->err, errno, "open %s", w->path) : walk_dir(w, sub);
        }
        w->path[pl] = '\0';
        w->apath[al] = '\0';
        return r < 0 ? r : 0;
}

static int walk_dir(struct walk *w, int dirfd)
{
        int dup_fd = dup(dirfd);
        _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return berth_err_sys(w->err, errno, "list %s", w->path);
        }
        struct dirent *de;
        int r = 0;
        errno = 0;
        while (r >= 0 && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                r = walk_one(w, dirfd, de->d_name);
                errno = 0;
        }
        return r;
}

int vps_archive_out_tree(struct vps_archive_out *o, const char *root, const char *prefix,
                         const struct vps_idshift *s, struct berth_err *err)
{
        struct walk w = {.o = o, .s = s, .err = err};
        snprintf(w.path, sizeof(w.path), "%s", root);
        snprintf(w.apath, sizeof(w.apath), "%s", prefix);
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_err_sys(err, errno, "open %s", root);
        /* The root itself: "prefix/" (its owner, mode and xattrs). */
        char top[PATH_MAX];
        snprintf(top, sizeof(top), "%s/", prefix);
        int r = add_entry(o, fd, ".", root, top, &st, s, err);
        return r < 0 ? r : walk_dir(&w, fd);
}

#else /* !BERTH_HAVE_LIBARCHIVE */

struct vps_archive_out {
        int unused;
};

struct vps_archive_out *vps_archive_out_new(int fd, bool compress, const struct vps_progress *p,
                                            struct berth_err *err)
{
        (void)fd, (void)compress, (void)p;
        berth_err_set(err, ENOTSUP, "berth was built without libarchive: no backups");
        return NULL;
}
int vps_archive_out_file(struct vps_archive_out *o, const char *path, const void *data, size_t len,
                         struct berth_err *err)
{
        (void)o, (void)path, (void)data, (void)len;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
int vps_archive_out_tree(struct vps_archive_out *o, const char *root, const char *prefix,
                         const struct vps_idshift *s, struct berth_err *err)
{
        (void)o, (void)root, (void)prefix, (void)s;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
int vps_archive_out_close(struct vps_archive_out *o, struct berth_err *err)
{
        (void)o;
        return berth_err_set(err, ENOTSUP, "no libarchive");
}
void vps_archive_out_free(struct vps_archive_out *o)
{
        (void)o;
}
void vps_archive_out_expect(struct vps_archive_out *o, uint64_t bytes)
{
        (void)o, (void)bytes;
}
void vps_archive_out_counts(const struct vps_archive_out *o, uint64_t *bytes, uint64_t *files)
{
        (void)o;
        *bytes = *files = 0;
}
#endif
