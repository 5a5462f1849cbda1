/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "tmpcopyup" mount option: a new tmpfs starts with a copy of the
 * directory it is about to hide (podman's --read-only mounts /run, /tmp and
 * /var/tmp this way, so the image's files there stay visible).
 *
 * The copy goes from the destination directory, still uncovered, into the
 * detached tmpfs before it is attached, so nothing is ever visible half
 * copied. Kept small on purpose (the template importer's libarchive copier
 * is far too heavy for the container start path): directories, regular
 * files, symlinks and special files, with mode, owner and times. The walk
 * stays on the source's filesystem: a mount point is copied as an empty
 * directory, as a copy of the underlying tree would show it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/rootfs.h"

struct copyup {
        dev_t dev;          /* the source's filesystem */
        char rel[PATH_MAX]; /* path of the entry being copied, for messages */
        const char *dest;   /* the mount destination, for messages */
        struct berth_err *err;
};

static int copy_fail(struct copyup *c, int code, const char *what)
{
        return berth_err_sys(c->err, code, "tmpcopyup of %s: %s %s", c->dest, what, c->rel[0] ? c->rel : ".");
}

static void dir_closep(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Owner, then mode (chown clears set-id bits), then times. */
static int copy_attrs(struct copyup *c, int fd, const struct stat *st)
{
        if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
                return copy_fail(c, errno, "set owner and mode of");
        struct timespec times[2] = {st->st_atim, st->st_mtim};
        if (futimens(fd, times) < 0)
                return copy_fail(c, errno, "set times of");
        return 0;
}

static int copy_bytes(int in, int out)
{
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 20, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
                        return -errno;
                break; /* no copy_file_range between these filesystems */
        }
        char buf[16384];
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                int r = berth_write_all(out, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
}

static int copy_file(struct copyup *c, int sdir, int ddir, const char *name, const struct stat *st)
{
        _cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return copy_fail(c, errno, "open");
        _cleanup_close_ int out =
            openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return copy_fail(c, errno, "create");
        int r = copy_bytes(in, out);
        if (r < 0)
                return copy_fail(c, -r, "copy");
        return copy_attrs(c, out, st);
}

static int copy_symlink(struct copyup *c, int sdir, int ddir, const char *name, const struct stat *st)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
        if (n < 0)
                return copy_fail(c, errno, "read link");
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0)
                return copy_fail(c, errno, "create link");
        if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return copy_fail(c, errno, "set owner of");
        struct timespec times[2] = {st->st_atim, st->st_mtim};
        if (utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return copy_fail(c, errno, "set times of");
        return 0;
}

static int copy_special(struct copyup *c, int ddir, const char *name, const struct stat *st)
{
        if (mknodat(ddir, name, st->st_mode, st->st_rdev) < 0)
                return copy_fail(c, errno, "create node");
        _cleanup_close_ int fd = openat(ddir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return copy_fail(c, errno, "open");
        /* fchown/fchmod refuse O_PATH fds: go through /proc's magic link. */
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (chown(path, st->st_uid, st->st_gid) < 0 || chmod(path, st->st_mode & 07777) < 0)
                return copy_fail(c, errno, "set owner and mode of");
        return 0;
}

static int copy_dir(struct copyup *c, int sdir, int ddir);

static int copy_subdir(struct copyup *c, int sdir, int ddir, const char *name, const struct stat *st)
{
        if (mkdirat(ddir, name, 0700) < 0)
                return copy_fail(c, errno, "create directory");
        _cleanup_close_ int to = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (to < 0)
                return copy_fail(c, errno, "open");
        if (st->st_dev == c->dev) {
                _cleanup_close_ int from =
                    openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (from < 0)
                        return copy_fail(c, errno, "open");
                int r = copy_dir(c, from, to);
                if (r < 0)
                        return r;
        }
        return copy_attrs(c, to, st);
}

static int copy_entry(struct copyup *c, int sdir, int ddir, const char *name)
{
        struct stat st;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return copy_fail(c, errno, "stat");
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR:
                return copy_subdir(c, sdir, ddir, name, &st);
        case S_IFREG:
                return copy_file(c, sdir, ddir, name, &st);
        case S_IFLNK:
                return copy_symlink(c, sdir, ddir, name, &st);
        default:
                return copy_special(c, ddir, name, &st);
        }
}

/* Copies the entries of sdir into ddir; c->rel names sdir on entry. */
static int copy_dir(struct copyup *c, int sdir, int ddir)
{
        int fd = fcntl(sdir, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return copy_fail(c, errno, "read directory");
        __attribute__((cleanup(dir_closep))) DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return copy_fail(c, errno, "read directory");
        }
        size_t len = strlen(c->rel);
        struct dirent *e;
        while ((errno = 0, e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if ((size_t)snprintf(c->rel + len, sizeof(c->rel) - len, "%s%s", len ? "/" : "", e->d_name) >=
                    sizeof(c->rel) - len)
                        return copy_fail(c, ENAMETOOLONG, "copy");
                int r = copy_entry(c, sdir, ddir, e->d_name);
                if (r < 0)
                        return r;
                c->rel[len] = '\0';
        }
        if (errno)
                return copy_fail(c, errno, "read directory");
        return 0;
}

/* Does the comma-separated option string set `key` ("mode=", "uid=")? */
static bool has_option(const char *data, const char *key)
{
        for (const char *p = data; p;) {
                if (strncmp(p, key, strlen(key)) == 0)
                        return true;
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
        }
        return false;
}

int berth_tmpfs_copyup(int targetfd, int mntfd, const struct berth_mount *m, struct berth_err *err)
{
        struct copyup c = {.dest = m->destination, .err = err};
        _cleanup_close_ int from = openat(targetfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int to = openat(mntfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (from < 0 || to < 0 || fstat(from, &st) < 0)
                return copy_fail(&c, errno, "open");
        c.dev = st.st_dev;
        int r = copy_dir(&c, from, to);
        if (r < 0)
                return r;
        /* The tmpfs root takes the hidden directory's owner and mode unless
         * the options say otherwise. */
        if (!has_option(m->data, "uid=") && !has_option(m->data, "gid=") &&
            fchown(to, st.st_uid, st.st_gid) < 0)
                return copy_fail(&c, errno, "set owner of");
        if (!has_option(m->data, "mode=") && fchmod(to, st.st_mode & 07777) < 0)
                return copy_fail(&c, errno, "set mode of");
        return 0;
}
