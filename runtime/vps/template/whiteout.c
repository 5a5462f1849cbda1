/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Extracting archives into a template root, with OCI layer whiteouts.
 *
 * libarchive's disk writer resolves entry paths against the current
 * directory, so the extractor switches into the root for the duration and
 * restores the old directory afterwards (the CLI is single-threaded). Its
 * SECURE_* flags keep every entry inside the root: no "..", no absolute
 * paths, never through a symlink. Owners are restored by number: no name
 * lookup, the host's /etc/passwd says nothing about the image's users.
 *
 * Whiteouts (OCI image spec, "Representing Changes") only hide content of
 * LOWER layers, so the extractor remembers every path the current layer
 * wrote (and their parents) and spares them, whatever the entry order. */
#include <errno.h>
#include <fcntl.h>
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

#include "berth/rmtree.h"
#include "berth/rootfs.h"
#include "runtime/vps/template/internal.h"

#define WH_PREFIX                                                                                            \
        "."                                                                                                  \
        "wh."
#define WH_OPAQUE WH_PREFIX WH_PREFIX ".opq"

int tmpl_clean_path(char *path)
{
        char *out = path;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t len = (size_t)(end - p);
                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (out != path)
                                *out++ = '/';
                        memmove(out, p, len);
                        out += len;
                }
                p = end;
        }
        *out = '\0';
        return 0;
}

#ifdef BERTH_HAVE_LIBARCHIVE

static const int extract_flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                                 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

int tmpl_extractor_open(struct tmpl_extractor *x, int rootfd, bool whiteouts, struct berth_err *err)
{
        *x = (struct tmpl_extractor){.rootfd = rootfd, .whiteouts = whiteouts, .oldcwd = -EBADF};
        x->oldcwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (x->oldcwd < 0)
                x->oldcwd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        x->disk = AR(archive_write_disk_new)();
        if (!x->disk || AR(archive_write_disk_set_options)(x->disk, extract_flags) != ARCHIVE_OK)
                return berth_err_set(err, ENOMEM, "extract: cannot create the disk writer");
        if (fchdir(rootfd) < 0)
                return berth_err_sys(err, errno, "extract: enter the root");
        x->in_root = true;
        return 0;
}

int tmpl_extractor_close(struct tmpl_extractor *x, struct berth_err *err)
{
        int r = 0;
        /* close applies the deferred directory modes and times */
        if (x->disk && AR(archive_write_close)(x->disk) < ARCHIVE_WARN && err)
                r = berth_err_set(err, EIO, "extract: %s", AR(archive_error_string)(x->disk));
        if (x->disk)
                AR(archive_write_free)(x->disk);
        x->disk = NULL;
        if (x->in_root && x->oldcwd >= 0 && fchdir(x->oldcwd) < 0 && r == 0 && err)
                r = berth_err_sys(err, errno, "extract: return to the working directory");
        x->in_root = false;
        berth_closep(&x->oldcwd);
        x->oldcwd = -EBADF;
        tmpl_strset_free(&x->written);
        return r;
}

/* Remembers path and its parents as written by the current layer. */
static int remember(struct tmpl_extractor *x, const char *path)
{
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        for (;;) {
                int r = tmpl_strset_add(&x->written, buf);
                if (r <= 0)
                        return r; /* present: so are its parents */
                char *slash = strrchr(buf, '/');
                if (!slash)
                        return 0;
                *slash = '\0';
        }
}

/* Splits "a/b/c" into the parent dir fd (opened inside the root) and "c". */
static int open_parent(int rootfd, const char *path, const char **base)
{
        const char *slash = strrchr(path, '/');
        *base = slash ? slash + 1 : path;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        return berth_in_root_open(rootfd, dir, O_RDONLY | O_DIRECTORY);
}

struct opaque_walk {
        struct tmpl_extractor *x;
        int dirfd;
        const char *dir; /* root-relative, "" for the root */
        int error;
};

static int clear_lower(struct tmpl_extractor *x, int dirfd, const char *dir);

/* Keeps what this layer wrote; inside a kept directory, clears the lower
 * content too (the opaque directory hides all of it, at any depth). */
static bool keep_written(void *data, const char *name, bool is_dir)
{
        struct opaque_walk *w = data;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s%s%s", w->dir, *w->dir ? "/" : "", name);
        if (!tmpl_strset_has(&w->x->written, path))
                return false;
        if (is_dir && w->error == 0) {
                _cleanup_close_ int sub =
                    openat(w->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        w->error = clear_lower(w->x, sub, path);
        }
        return true;
}

static int clear_lower(struct tmpl_extractor *x, int dirfd, const char *dir)
{
        struct opaque_walk w = {.x = x, .dirfd = dirfd, .dir = dir};
        int r = berth_rmtree_children(dirfd, keep_written, &w, NULL);
        return r < 0 ? r : w.error;
}

static int whiteout(struct tmpl_extractor *x, const char *path, const char *base, struct berth_err *err)
{
        size_t dlen = (size_t)(base - path);
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", dlen ? (int)dlen - 1 : 0, path);
        _cleanup_close_ int dfd = berth_in_root_open(x->rootfd, dlen ? dir : ".", O_RDONLY | O_DIRECTORY);
        if (dfd == -ENOENT || dfd == -ENOTDIR)
                return 0; /* nothing below to hide */
        if (dfd < 0)
                return berth_err_sys(err, -dfd, "whiteout %s", path);
        int r = 0;
        if (!strcmp(base, WH_OPAQUE)) {
                r = clear_lower(x, dfd, dir);
        } else if (strncmp(base, WH_PREFIX WH_PREFIX, 8) && base[4]) { /* ".wh..wh.*": aufs bookkeeping */
                char victim[PATH_MAX];
                snprintf(victim, sizeof(victim), "%s%s%s", dir, dlen ? "/" : "", base + 4);
                if (!tmpl_strset_has(&x->written, victim))
                        r = berth_rmtree_at(dfd, base + 4, NULL);
        }
        return r < 0 ? berth_err_sys(err, -r, "whiteout %s", path) : 0;
}

/* A layer's non-directory replaces a lower directory of the same name
 * (libarchive would only rmdir an empty one). */
static int replace_dir(struct tmpl_extractor *x, const char *path)
{
        const char *base;
        _cleanup_close_ int pfd = open_parent(x->rootfd, path, &base);
        struct stat st;
        if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        return berth_rmtree_at(pfd, base, NULL);
}

static int copy_data(struct tmpl_extractor *x, struct archive *in, struct berth_err *err)
{
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = AR(archive_read_data_block)(in, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return berth_err_set(err, EIO, "read: %s", AR(archive_error_string)(in));
                if (AR(archive_write_data_block)(x->disk, buf, size, off) < ARCHIVE_WARN)
                        return berth_err_set(err, EIO, "write: %s", AR(archive_error_string)(x->disk));
        }
}

static int set_clean_hardlink(struct archive_entry *e, struct berth_err *err)
{
        const char *link = AR(archive_entry_hardlink)(e);
        if (!link)
                return 0;
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", link);
        if (tmpl_clean_path(buf) < 0 || !*buf)
                return berth_err_set(err, EINVAL, "unsafe hard link target \"%s\"", link);
        AR(archive_entry_set_hardlink)(e, buf);
        return 0;
}

int tmpl_extractor_header(struct tmpl_extractor *x, struct archive_entry *e, struct berth_err *err)
{
        char path[PATH_MAX];
        const char *name = AR(archive_entry_pathname)(e);
        snprintf(path, sizeof(path), "%s", name ? name : "");
        if (tmpl_clean_path(path) < 0)
                return berth_err_set(err, EINVAL, "unsafe path \"%s\" (\"..\")", name);
        if (AR(archive_entry_filetype)(e) == AE_IFSOCK)
                return 0;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (x->whiteouts && !strncmp(base, WH_PREFIX, 4)) {
                int r = whiteout(x, path, base, err);
                return r < 0 ? r : 0;
        }
        if (set_clean_hardlink(e, err) < 0)
                return -err->code;
        AR(archive_entry_set_pathname)(e, *path ? path : ".");
        if (*path && AR(archive_entry_filetype)(e) != AE_IFDIR && !AR(archive_entry_hardlink)(e)) {
                int r = replace_dir(x, path);
                if (r < 0)
                        return berth_err_sys(err, -r, "replace directory %s", path);
        }
        if (AR(archive_write_header)(x->disk, e) < ARCHIVE_WARN)
                return berth_err_set(err, AR(archive_errno)(x->disk) > 0 ? AR(archive_errno)(x->disk) : EIO,
                                     "%s: %s", *path ? path : "/", AR(archive_error_string)(x->disk));
        return 1;
}

int tmpl_extractor_finish(struct tmpl_extractor *x, struct archive_entry *e, struct berth_err *err)
{
        const char *path = AR(archive_entry_pathname)(e);
        if (AR(archive_write_finish_entry)(x->disk) < ARCHIVE_WARN)
                return berth_err_set(err, EIO, "%s: %s", path, AR(archive_error_string)(x->disk));
        if (x->whiteouts && strcmp(path, ".") && remember(x, path) < 0)
                return berth_err_set(err, ENOMEM, "extract: out of memory");
        return 0;
}

int tmpl_extractor_entry(struct tmpl_extractor *x, struct archive *in, struct archive_entry *e,
                         struct berth_err *err)
{
        int r = tmpl_extractor_header(x, e, err);
        if (r <= 0)
                return r;
        if (AR(archive_entry_size)(e) > 0 && copy_data(x, in, err) < 0)
                return berth_err_wrap(err, "%s", AR(archive_entry_pathname)(e));
        return tmpl_extractor_finish(x, e, err);
}

int tmpl_extract(int rootfd, struct archive *in, bool whiteouts, struct berth_err *err)
{
        struct tmpl_extractor x;
        int r = tmpl_extractor_open(&x, rootfd, whiteouts, err);
        while (r >= 0) {
                struct archive_entry *e;
                int ar = AR(archive_read_next_header)(in, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        r = berth_err_set(err, AR(archive_errno)(in) > 0 ? AR(archive_errno)(in) : EIO,
                                          "read archive: %s", AR(archive_error_string)(in));
                        break;
                }
                r = tmpl_extractor_entry(&x, in, e, err);
        }
        int c = tmpl_extractor_close(&x, r < 0 ? NULL : err);
        return r < 0 ? r : c;
}

#endif
