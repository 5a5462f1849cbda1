/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of the template files (rootfs/template_*.c); not public API. */
#ifndef BERTH_TEMPLATE_INTERNAL_H
#define BERTH_TEMPLATE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/cleanup.h"
#include "berth/err.h"
#include "berth/template.h"

#define TMPL_NAME_MAX 64

/* ---- template_store.c ---- */

/* mkdir -p of a host path (the data directory), then opens
 * <data>/templates (created 0755) O_DIRECTORY. Returns the fd or -errno. */
int tmpl_open_templates_dir(const char *data_dir, bool create, struct berth_err *err);
int tmpl_check_name(const char *name, struct berth_err *err);

/* ---- template_build.c: the atomic build directory ---- */

struct tmpl_build {
        int templates_fd; /* <data>/templates */
        int tmp_fd;       /* <data>/templates/.tmp-<NAME>-<pid> */
        int rootfs_fd;    /* .../rootfs, where builders write */
        char name[TMPL_NAME_MAX + 1];
        char tmpname[TMPL_NAME_MAX + 32];
        bool committed;
};

/* Validates the name, refuses an existing template (EEXIST), removes stale
 * temp dirs of dead builders, creates the temp dir and its rootfs/. */
int tmpl_build_begin(struct tmpl_build *b, const char *data_dir, const char *name, struct berth_err *err);

/* Writes template.json (init and stop signal detected from the root, size
 * measured), creates users/ and renames the temp dir into place
 * (RENAME_NOREPLACE: EEXIST if another builder won). image_config: compact
 * JSON or NULL. */
int tmpl_build_commit(struct tmpl_build *b, const char *source, const char *image_config,
                      struct berth_err *err);

/* Cleanup handler: removes the temp dir unless committed; closes the fds. */
void tmpl_build_abort(struct tmpl_build *b);
#define _cleanup_tmpl_build_ _cleanup_(tmpl_build_abort)

/* The init of a root and its graceful stop signal: systemd -> SIGRTMIN+3,
 * busybox -> SIGUSR2 (poweroff), anything else (sysvinit) -> SIGPWR.
 * *init is NULL (and *signal "SIGTERM") when /sbin/init does not exist. */
int tmpl_detect_init(int rootfd, char **init, const char **signal);

/* ---- template_fs.c: tree walks that never leave the filesystem (removal:
 * berth_rmtree_at, berth/rmtree.h) ---- */

/* Disk usage (st_blocks) of the tree below dirfd, each inode counted once. */
int tmpl_disk_usage(int dirfd, uint64_t *out);
int tmpl_mkdir_p(const char *path, mode_t mode);
/* Creates dirfd/name with content (O_EXCL) and mode. */
int tmpl_write_file_at(int dirfd, const char *name, const char *content, mode_t mode);

/* ---- template_set.c: a set of strings (paths, inode numbers) ---- */

struct tmpl_strset {
        char **slots;
        size_t cap, n;
};
/* 1 added, 0 already there, -ENOMEM. */
int tmpl_strset_add(struct tmpl_strset *s, const char *str);
/* With a value (a map): 1 added, 0 key already there (value kept), -ENOMEM. */
int tmpl_strset_put(struct tmpl_strset *s, const char *key, const char *value);
/* The value of key ("" when added without one), NULL when absent. */
const char *tmpl_strset_get(const struct tmpl_strset *s, const char *key);
bool tmpl_strset_has(const struct tmpl_strset *s, const char *str);
void tmpl_strset_free(struct tmpl_strset *s);

/* ---- template_whiteout.c: archives into a root ---- */

struct archive;
struct archive_entry;

/* One extraction into a root: open, any number of entries, close. */
struct tmpl_extractor {
        int rootfd;
        int oldcwd; /* restored by close */
        bool in_root, whiteouts;
        struct archive *disk;
        struct tmpl_strset written; /* paths written by the current layer */
};
int tmpl_extractor_open(struct tmpl_extractor *x, int rootfd, bool whiteouts, struct berth_err *err);
/* The two halves of an entry, for callers that supply the data themselves
 * (archive_write_data on x->disk in between). header cleans the path,
 * handles whiteouts and returns 1 when the entry was opened for writing
 * (then call finish), 0 when it was consumed (whiteout, socket). */
int tmpl_extractor_header(struct tmpl_extractor *x, struct archive_entry *e, struct berth_err *err);
int tmpl_extractor_finish(struct tmpl_extractor *x, struct archive_entry *e, struct berth_err *err);
/* One entry of `in` (its data is read from `in`); the path is cleaned. */
int tmpl_extractor_entry(struct tmpl_extractor *x, struct archive *in, struct archive_entry *e,
                         struct berth_err *err);
/* Finishes (deferred directory modes and times), returns to the old cwd.
 * err may be NULL when an error is already being reported. */
int tmpl_extractor_close(struct tmpl_extractor *x, struct berth_err *err);
/* Extracts every entry of `in` below rootfd (permissions, owners as
 * numbers, times, xattrs, ACLs; no "..", no absolute paths, never through
 * a symlink). whiteouts: `in` is an OCI/docker layer: ".wh.NAME" removes
 * NAME of the lower layers, ".wh..wh..opq" hides a directory's lower
 * content; entries of this same layer are kept. A non-directory replaces a
 * directory of a lower layer. */
int tmpl_extract(int rootfd, struct archive *in, bool whiteouts, struct berth_err *err);
/* Entry path made relative: leading "/" and "./" dropped, trailing "/"
 * dropped, "" for the root; -EINVAL for a ".." component. In place. */
int tmpl_clean_path(char *path);

/* ---- template_import.c / template_oci.c ---- */

/* Copies the directory tree `src` into rootfd with libarchive's disk
 * reader/writer (modes, owners, times, xattrs, ACLs, hard links). */
int tmpl_copy_dir(int rootfd, const char *src, struct berth_err *err);

enum tmpl_archive_kind { TMPL_ARCHIVE_ROOTFS, TMPL_ARCHIVE_OCI, TMPL_ARCHIVE_DOCKER };
/* Looks at the member names of an archive file: an OCI image layout
 * (oci-layout + index.json), a docker-archive (manifest.json + layers), or
 * anything else (a root filesystem tarball). */
int tmpl_archive_kind(const char *path, enum tmpl_archive_kind *kind, struct berth_err *err);

/* Applies the image of an OCI layout (archive file or directory, is_dir)
 * or docker-archive to rootfd. *image_config: the image config's "config"
 * object as compact JSON (or NULL). */
int tmpl_import_image(int rootfd, const char *path, bool is_dir, enum tmpl_archive_kind kind,
                      char **image_config, struct berth_err *err);

/* ---- template_mirror.c ---- */

/* One-line style ("deb [opts] URI SUITE COMP...") and deb822 (.sources)
 * parsers for apt sources text: *best gets the first candidate listing
 * `suite`, *first the first candidate at all (each only if still NULL). */
/* The apt sources of a debootstrap template (sources.c): the suite, its
 * -updates and its security archive (the host's debian-security URI under
 * apt_dir, NULL /etc/apt, else derived from the mirror) into the
 * template's etc/apt/sources.list. */
int tmpl_sources_write(int rootfs_fd, const char *apt_dir, const char *mirror, const char *suite,
                       struct berth_err *err);
/* Its text (*out malloc'ed; security NULL: derived from the mirror). */
int tmpl_sources_text(const char *mirror, const char *suite, const char *security, char **out);
/* The first http(s) URI with a "debian-security" path component in apt
 * sources text (one-line or deb822), malloc'ed, or NULL. */
char *tmpl_sources_scan_security(const char *text);
int tmpl_mirror_scan_list(const char *text, const char *suite, char **best, char **first);
int tmpl_mirror_scan_deb822(const char *text, const char *suite, char **best, char **first);

#endif
