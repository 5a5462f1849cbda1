// SPDX-License-Identifier: GPL-2.0-or-later
/* What an interrupted create or destroy leaves in <data>/vps, and its
 * removal.
 *
 * An incoming migration (`vps receive`, receive.c) works the same way in
 * .mig.<name>.<pid>, which it renames to <name> when it publishes the VPS.
 *
 * create builds a VPS in .new.<name>.<pid> and renames it into place once
 * vps.json, config.json and the template marker are written; destroy
 * renames <name> to .rm.<name>.<pid> before it unmarks the template and
 * removes the tree. Either holds an exclusive flock on that directory
 * while it works, so a directory of either form whose lock is free was
 * left by a process that died: nothing else names it (list skips names
 * that start with '.'), and removing it, and the template marker it may
 * have written, is all the repair there is. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/rmtree.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* ".new.<name>.<pid>", ".rm.<name>.<pid>" or ".mig.<name>.<pid>" -> name;
 * false for anything else. */
static bool parse_entry(const char *entry, struct vps_leftover *lo)
{
        const char *p;
        lo->is_mig = false;
        if (!strncmp(entry, ".new.", 5))
                p = entry + 5, lo->is_new = true;
        else if (!strncmp(entry, ".mig.", 5))
                p = entry + 5, lo->is_new = true, lo->is_mig = true;
        else if (!strncmp(entry, ".rm.", 4))
                p = entry + 4, lo->is_new = false;
        else
                return false;
        const char *dot = strrchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : 0;
        if (!dot || n == 0 || n > BERTH_VPS_NAME_MAX || !dot[1] ||
            strspn(dot + 1, "0123456789") != strlen(dot + 1))
                return false;
        memcpy(lo->name, p, n);
        lo->name[n] = '\0';
        snprintf(lo->entry, sizeof(lo->entry), "%s", entry);
        return berth_vps_name_valid(lo->name);
}

/* The leftover's lock, when its maker is gone: the fd, or -EBUSY while
 * it still works, or another -errno. */
static int claim(int parent, const char *entry)
{
        int fd = openat(parent, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                return e == EWOULDBLOCK ? -EBUSY : -e;
        }
        return fd;
}

int vps_leftovers_each(const struct berth_vps_ctx *v, int parent, vps_leftover_fn fn, void *arg,
                       struct berth_err *err)
{
        int dup_fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return berth_err_sys(err, errno, "list %s/vps", v->data_dir);
        }
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                struct vps_leftover lo;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (!parse_entry(de->d_name, &lo))
                        continue;
                _cleanup_close_ int lock = claim(parent, de->d_name);
                if (lock == -EBUSY) {
                        vps_trace(v, "%s: its %s is still under way", de->d_name,
                                  lo.is_new ? "create" : "destroy");
                        continue;
                }
                if (lock < 0)
                        continue; /* gone meanwhile, or not a directory */
                r = fn(v, parent, &lo, arg, err);
        }
        return r;
}

/* The template of the leftover's vps.json; NULL when it has none that
 * parses (a create killed before vps.json: no marker was written). */
static char *leftover_template(int parent, const struct vps_leftover *lo)
{
        char path[NAME_MAX + 16];
        snprintf(path, sizeof(path), "%s/vps.json", lo->entry);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (berth_read_file_at(parent, path, O_NOFOLLOW, 16 << 20, &text, &len) < 0)
                return NULL;
        struct berth_vps_config cfg;
        struct berth_err ignore = {0};
        if (berth_vps_config_parse(text, len, &cfg, &ignore) < 0)
                return NULL;
        char *t = strcmp(cfg.name, lo->name) ? NULL : strdup(cfg.template_name);
        berth_vps_config_clear(&cfg);
        return t;
}

int vps_leftover_remove(const struct berth_vps_ctx *v, int parent, const struct vps_leftover *lo,
                        struct berth_err *err)
{
        /* An incoming migration marks its template only as it publishes. */
        _cleanup_free_ char *tmpl = lo->is_mig ? NULL : leftover_template(parent, lo);
        /* The marker is the VPS's of that name when one exists now. */
        if (tmpl && faccessat(parent, lo->name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
                int r = vps_template_mark(v, tmpl, lo->name, false, err);
                if (r < 0)
                        return r;
                vps_trace(v, "%s: template %s unmarked", lo->entry, tmpl);
        }
        int r = berth_rmtree_at(parent, lo->entry, err);
        return r < 0 ? berth_err_wrap(err, "remove %s/vps/%s", v->data_dir, lo->entry) : 0;
}
