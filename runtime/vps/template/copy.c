/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Import of a directory: a real copy (the source may change later), with
 * modes, numeric owners, times, xattrs (file capabilities), ACLs and hard
 * links preserved, through the same disk writer as the archive imports.
 *
 * The tree is walked here with *at() calls instead of libarchive's disk
 * reader, because that reader changes the working directory while it walks
 * and the disk writer resolves paths against it. libarchive still reads
 * each file's metadata (archive_read_disk_entry_from_file on an fd). The
 * walk stays on the source's filesystem: mount points are copied empty. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef BERTH_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#include "runtime/vps/template/archive_dl.h"
#endif

#include "runtime/vps/template/internal.h"

#ifdef BERTH_HAVE_LIBARCHIVE

static void entry_freep(struct archive_entry **e)
{
        if (*e)
                AR(archive_entry_free)(*e);
}

struct copy_ctx {
        struct tmpl_extractor x;
        struct archive *meta;     /* disk reader used only for metadata */
        struct tmpl_strset links; /* "dev:ino" -> first path, for hard links */
        dev_t dev;
        struct berth_err *err;
};

/* Feeds the file's data to the writer as archive data. */
static int copy_data(struct copy_ctx *c, int fd, const char *rel)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_err_sys(c->err, errno, "read %s", rel);
                if (n == 0)
                        return 0;
                if (AR(archive_write_data)(c->x.disk, buf, (size_t)n) < 0)
                        return berth_err_set(c->err, EIO, "write %s: %s", rel,
                                             AR(archive_error_string)(c->x.disk));
        }
}

/* Fills the entry: metadata from libarchive (through an fd for files and
 * directories, so xattrs and ACLs come along), symlink target by hand. */
static int fill_entry(struct copy_ctx *c, int dirfd, const char *name, const struct stat *st,
                      struct archive_entry *e, int *fd_out)
{
        AR(archive_entry_copy_stat)(e, st);
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                AR(archive_entry_copy_symlink)(e, target);
                return 0;
        }
        if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
                return 0; /* devices and fifos: opening them could block or have effects */
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *fd_out = fd;
        if (AR(archive_read_disk_entry_from_file)(c->meta, e, fd, st) < ARCHIVE_WARN)
                return -EIO;
        return 0;
}

static int copy_one(struct copy_ctx *c, int dirfd, const char *name, const char *rel, const struct stat *st)
{
        _cleanup_(entry_freep) struct archive_entry *e = AR(archive_entry_new)();
        _cleanup_close_ int fd = -EBADF;
        if (!e)
                return berth_err_set(c->err, ENOMEM, "copy: out of memory");
        int r = fill_entry(c, dirfd, name, st, e, &fd);
        if (r < 0)
                return berth_err_sys(c->err, -r, "read %s", rel);
        AR(archive_entry_copy_pathname)(e, *rel ? rel : ".");
        bool link = false;
        if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
                char key[64];
                snprintf(key, sizeof(key), "%" PRIu64 ":%" PRIu64, (uint64_t)st->st_dev,
                         (uint64_t)st->st_ino);
                const char *first = tmpl_strset_get(&c->links, key);
                if (first) {
                        AR(archive_entry_copy_hardlink)(e, first);
                        AR(archive_entry_set_size)(e, 0);
                        link = true;
                } else if (tmpl_strset_put(&c->links, key, rel) < 0) {
                        return berth_err_set(c->err, ENOMEM, "copy: out of memory");
                }
        }
        r = tmpl_extractor_header(&c->x, e, c->err);
        if (r <= 0)
                return r;
        if (!link && S_ISREG(st->st_mode) && st->st_size > 0 && (r = copy_data(c, fd, rel)) < 0)
                return r;
        return tmpl_extractor_finish(&c->x, e, c->err);
}

static int copy_tree(struct copy_ctx *c, int dirfd, const char *rel)
{
        int own_fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = own_fd >= 0 ? fdopendir(own_fd) : NULL;
        if (!d) {
                if (own_fd >= 0)
                        close(own_fd);
                return berth_err_sys(c->err, errno, "read directory %s", *rel ? rel : "/");
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char sub[PATH_MAX];
                if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
                    (int)sizeof(sub))
                        return berth_err_set(c->err, ENAMETOOLONG, "path too long: %s/%s", rel, de->d_name);
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return berth_err_sys(c->err, errno, "stat %s", sub);
                int r = copy_one(c, dirfd, de->d_name, sub, &st);
                if (r < 0)
                        return r;
                if (!S_ISDIR(st.st_mode) || st.st_dev != c->dev)
                        continue;
                _cleanup_close_ int subfd =
                    openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (subfd < 0)
                        return berth_err_sys(c->err, errno, "open %s", sub);
                if ((r = copy_tree(c, subfd, sub)) < 0)
                        return r;
        }
        return errno ? berth_err_sys(c->err, errno, "read directory %s", rel) : 0;
}

int tmpl_copy_dir(int rootfd, const char *src, struct berth_err *err)
{
        struct copy_ctx c = {.err = err};
        _cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (sfd < 0 || fstat(sfd, &st) < 0)
                return berth_err_sys(err, errno, "open %s", src);
        c.dev = st.st_dev;
        c.meta = AR(archive_read_disk_new)();
        if (!c.meta)
                return berth_err_set(err, ENOMEM, "copy: out of memory");
        int r = tmpl_extractor_open(&c.x, rootfd, false, err);
        if (r >= 0)
                r = copy_one(&c, sfd, ".", "", &st);
        if (r >= 0)
                r = copy_tree(&c, sfd, "");
        int cr = tmpl_extractor_close(&c.x, r < 0 ? NULL : err);
        AR(archive_read_free)(c.meta);
        tmpl_strset_free(&c.links);
        return r < 0 ? r : cr;
}

#else

int tmpl_copy_dir(int rootfd, const char *src, struct berth_err *err)
{
        return berth_err_set(err, ENOTSUP, "import %s: berth was built without libarchive", src);
}

#endif
