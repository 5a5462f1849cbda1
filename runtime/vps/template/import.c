/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `template import NAME PATH`: decides what PATH is (a directory, an OCI
 * layout directory, an OCI or docker image archive, a root filesystem
 * tarball in any compression libarchive knows) and builds the template
 * from it atomically. */
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

#include "runtime/vps/template/internal.h"

#ifdef BERTH_HAVE_LIBARCHIVE

static void archive_freep(struct archive **a)
{
        if (*a)
                AR(archive_read_free)(*a);
}

static struct archive *open_archive(const char *path, struct berth_err *err)
{
        struct archive *a = AR(archive_read_new)();
        if (!a) {
                berth_err_set(err, ENOMEM, "open %s: out of memory", path);
                return NULL;
        }
        AR(archive_read_support_filter_all)(a);
        AR(archive_read_support_format_all)(a);
        if (AR(archive_read_open_filename)(a, path, 1 << 16) != ARCHIVE_OK) {
                berth_err_set(err, AR(archive_errno)(a) > 0 ? AR(archive_errno)(a) : EINVAL, "open %s: %s",
                              path, AR(archive_error_string)(a));
                AR(archive_read_free)(a);
                return NULL;
        }
        return a;
}

/* Member names an image archive may hold besides oci-layout, index.json
 * and manifest.json: blobs/..., docker's legacy <id>/ dirs, <id>.json, <id>.tar,
 * "repositories". A name outside these means a root filesystem. */
static bool image_member(const char *name)
{
        if (!*name || !strcmp(name, "repositories") || !strcmp(name, "blobs") || !strncmp(name, "blobs/", 6))
                return true;
        size_t hex = strspn(name, "0123456789abcdef");
        return hex >= 32 && (!name[hex] || name[hex] == '/' || !strcmp(name + hex, ".json") ||
                             !strcmp(name + hex, ".tar"));
}

int tmpl_archive_kind(const char *path, enum tmpl_archive_kind *kind, struct berth_err *err)
{
        _cleanup_(archive_freep) struct archive *a = open_archive(path, err);
        if (!a)
                return -err->code;
        bool layout = false, index = false, manifest = false;
        *kind = TMPL_ARCHIVE_ROOTFS;
        for (;;) {
                struct archive_entry *e;
                int r = AR(archive_read_next_header)(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_err_set(err, AR(archive_errno)(a) > 0 ? AR(archive_errno)(a) : EINVAL,
                                             "read %s: %s", path, AR(archive_error_string)(a));
                char name[PATH_MAX];
                snprintf(name, sizeof(name), "%s",
                         AR(archive_entry_pathname)(e) ? AR(archive_entry_pathname)(e) : "");
                if (tmpl_clean_path(name) < 0)
                        return 0; /* the extraction reports it */
                if (!strcmp(name, "oci-layout"))
                        layout = true;
                else if (!strcmp(name, "index.json"))
                        index = true;
                else if (!strcmp(name, "manifest.json"))
                        manifest = true;
                else if (!image_member(name))
                        return 0; /* e.g. "bin/": a root filesystem, no need to read further */
        }
        if (layout && index)
                *kind = TMPL_ARCHIVE_OCI;
        else if (manifest)
                *kind = TMPL_ARCHIVE_DOCKER;
        return 0;
}

static int extract_tarball(int rootfd, const char *path, struct berth_err *err)
{
        _cleanup_(archive_freep) struct archive *a = open_archive(path, err);
        if (!a)
                return -err->code;
        return tmpl_extract(rootfd, a, false, err);
}

#else

int tmpl_archive_kind(const char *path, enum tmpl_archive_kind *kind, struct berth_err *err)
{
        return berth_err_set(err, ENOTSUP, "import %s: berth was built without libarchive", path);
}

static int extract_tarball(int rootfd, const char *path, struct berth_err *err)
{
        return tmpl_archive_kind(path, NULL, err);
}

#endif

/* Refuses to copy a directory that contains the template store: the copy
 * would walk into the template being built. */
static int check_not_inside(int templates_fd, const struct stat *src, const char *path, struct berth_err *err)
{
        _cleanup_close_ int fd = fcntl(templates_fd, F_DUPFD_CLOEXEC, 3);
        for (int depth = 0; fd >= 0 && depth < 256; depth++) {
                struct stat st;
                if (fstat(fd, &st) < 0)
                        break;
                if (st.st_dev == src->st_dev && st.st_ino == src->st_ino)
                        return berth_err_set(err, EINVAL,
                                             "import %s: the directory contains the template store", path);
                int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct stat ust;
                bool top =
                    up < 0 || fstat(up, &ust) < 0 || (ust.st_dev == st.st_dev && ust.st_ino == st.st_ino);
                close(fd);
                fd = up;
                if (top)
                        break;
        }
        return 0;
}

static int import_into(struct tmpl_build *b, const char *path, const struct stat *st, char **image_config,
                       struct berth_err *err)
{
        if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0 && faccessat(dfd, "oci-layout", F_OK, 0) == 0 &&
                    faccessat(dfd, "index.json", F_OK, 0) == 0)
                        return tmpl_import_image(b->rootfs_fd, path, true, TMPL_ARCHIVE_OCI, image_config,
                                                 err);
                int r = check_not_inside(b->templates_fd, st, path, err);
                return r < 0 ? r : tmpl_copy_dir(b->rootfs_fd, path, err);
        }
        enum tmpl_archive_kind kind;
        int r = tmpl_archive_kind(path, &kind, err);
        if (r < 0)
                return r;
        if (kind == TMPL_ARCHIVE_ROOTFS)
                return extract_tarball(b->rootfs_fd, path, err);
        return tmpl_import_image(b->rootfs_fd, path, false, kind, image_config, err);
}

int berth_template_import(const char *data_dir, const char *name, const char *path, struct berth_err *err)
{
        int r = tmpl_check_name(name, err);
        if (r < 0)
                return r;
#ifdef BERTH_HAVE_LIBARCHIVE
        r = archive_load(err);
        if (r < 0)
                return berth_err_wrap(err, "import %s", path ? path : "(null)");
#endif
        char abs[PATH_MAX];
        struct stat st;
        if (!path || !realpath(path, abs) || stat(abs, &st) < 0)
                return berth_err_sys(err, path ? errno : EINVAL, "import %s", path ? path : "(null)");
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return berth_err_set(err, EINVAL, "import %s: not a directory, tarball or image archive",
                                     path);
        _cleanup_tmpl_build_ struct tmpl_build b = {
            .templates_fd = -EBADF, .tmp_fd = -EBADF, .rootfs_fd = -EBADF};
        r = tmpl_build_begin(&b, data_dir, name, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *image_config = NULL;
        r = import_into(&b, abs, &st, &image_config, err);
        if (r < 0)
                return berth_err_wrap(err, "import template %s from %s", name, path);
        _cleanup_free_ char *source = NULL;
        if (asprintf(&source, "import:%s", abs) < 0)
                return berth_err_set(err, ENOMEM, "import template %s: out of memory", name);
        return tmpl_build_commit(&b, source, image_config, err);
}
