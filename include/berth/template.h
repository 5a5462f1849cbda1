/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VPS templates: read-only root filesystems that VPS overlays sit on.
 *
 * Layout under the data directory (other modules rely on it):
 *
 *   <data>/templates/<NAME>/rootfs/          the template's root (overlay lower dir)
 *   <data>/templates/<NAME>/template.json    {"name","source","created","size_bytes",
 *                                             "init","stop_signal"[,"image_config"]}
 *   <data>/templates/<NAME>/users/<VPS>      empty marker: VPS <VPS> uses this template
 *
 * A template is built in <data>/templates/.tmp-<NAME>-<pid>/ and renamed
 * into place at the very end, so a template either exists completely or not
 * at all; every failure removes the temporary directory.
 *
 * Names: [a-zA-Z0-9][a-zA-Z0-9_.-]{0,63} (the same rule serves VPS names). */
#ifndef BERTH_TEMPLATE_H
#define BERTH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/err.h"
#include "berth/exit_code.h" /* the template verbs' exit codes */

/* The data directory: `flag_value` (--data-dir) if set, else $BERTH_DATA if
 * set and non-empty, else /var/lib/berth. Never NULL. */
const char *berth_data_dir(const char *flag_value);

/* True when `name` is a valid template (or VPS) name. */
bool berth_template_name_valid(const char *name);

struct berth_template_info {
        char *name;
        char *source;        /* "busybox", "debootstrap:SUITE" or "import:PATH" */
        char *created;       /* RFC 3339, UTC */
        uint64_t size_bytes; /* disk usage of rootfs/ at creation (hard links once) */
        char *init;          /* path of the init inside the root, NULL if none was found */
        char *stop_signal;   /* graceful shutdown signal of that init, e.g. "SIGRTMIN+3" */
        char *image_config;  /* OCI image "config" object as compact JSON, or NULL */
        char *rootfs;        /* absolute path of rootfs/ */
        char **users;        /* NULL-terminated names of the VPS using it (never NULL) */
        size_t n_users;
};

void berth_template_info_clear(struct berth_template_info *info);
void berth_template_list_free(struct berth_template_info *infos, size_t n);

/* A small working system from the host's static /bin/busybox: applet
 * symlinks, /sbin/init, an inittab without getty, passwd/group, /etc files.
 * Downloads nothing; takes a few milliseconds. */
int berth_template_create_busybox(const char *data_dir, const char *name, struct berth_err *err);

/* Debian's debootstrap --variant=minbase SUITE (plus an init and iproute2,
 * plus include: comma-separated package names, may be NULL), found on PATH
 * or in /usr/sbin; then /etc/apt/sources.list with SUITE, SUITE-updates and
 * the security archive. mirror NULL: the first Debian http(s) URI of the
 * host's apt sources. Every output line of debootstrap goes to progress
 * (may be NULL). Needs root. */
int berth_template_create_debootstrap(const char *data_dir, const char *name, const char *suite,
                                      const char *mirror, const char *include,
                                      void (*progress)(void *data, const char *line), void *progress_data,
                                      struct berth_err *err);
/* include of the above: EINVAL naming the first bad package name. */
int berth_template_include_check(const char *include, struct berth_err *err);

/* The mirror debootstrap would use: the first http(s) Debian (or Ubuntu)
 * URI of <apt_dir>/sources.list, sources.list.d/\*.list and *.sources,
 * preferring an entry that lists `suite` (may be NULL). apt_dir NULL means
 * /etc/apt. *out is malloc'ed. ENOENT when there is none. */
int berth_template_find_mirror(const char *apt_dir, const char *suite, char **out, struct berth_err *err);

/* Imports `path`: a directory (copied with modes, owners, times, xattrs,
 * ACLs and hard links), a tarball (tar, gz, xz, zst, bz2: autodetected), an
 * OCI image archive or layout directory (layers applied in order with
 * whiteouts), or a docker-archive (docker/podman save). */
int berth_template_import(const char *data_dir, const char *name, const char *path, struct berth_err *err);

/* All templates, sorted by name. */
int berth_template_list(const char *data_dir, struct berth_template_info **out, size_t *n,
                        struct berth_err *err);

/* One template; ENOENT "template NAME does not exist". */
int berth_template_info(const char *data_dir, const char *name, struct berth_template_info *out,
                        struct berth_err *err);

/* Path of <data>/templates/<NAME>/rootfs into out; ENOENT when missing. */
int berth_template_rootfs(const char *data_dir, const char *name, char *out, size_t len,
                          struct berth_err *err);

/* Removes a template; EBUSY "template NAME is used by VPS a, b" while any
 * users/ marker exists. */
int berth_template_remove(const char *data_dir, const char *name, struct berth_err *err);

/* Adds / removes the users/<vps> marker. Serialised with
 * berth_template_remove by a lock on the template directory, so a template
 * cannot disappear between "it exists" and "VPS x uses it". use: ENOENT when
 * the template does not exist; unuse of a missing marker is not an error. */
int berth_template_use(const char *data_dir, const char *name, const char *vps, struct berth_err *err);
int berth_template_unuse(const char *data_dir, const char *name, const char *vps, struct berth_err *err);

#endif
