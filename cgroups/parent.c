/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The level above a container on a pure cgroup-v2 host, and helper
 * processes charged with the container beside it.
 *
 * A container's v2 cgroup may be the root of someone else's tree (a guest
 * systemd's, delegated to it): "no internal processes" means no process of
 * ours may live there once that tree enables controllers. A helper that
 * must be charged with the container (the VPS console keeper) lives in a
 * sibling cgroup instead, and the parent level carries the limits that
 * bind both. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

/* s up to its last '/', malloc'd. */
static char *dirname_dup(const char *s)
{
        const char *slash = strrchr(s, '/');
        return slash ? strndup(s, (size_t)(slash - s)) : NULL;
}

struct berth_cgroup *berth_cgroup_parent(const struct berth_cgroup *cg, struct berth_err *err)
{
        const struct cg_hier *u = cg_unified(cg);
        if (cg->layout != BERTH_CG_UNIFIED || !u) {
                berth_err_set(err, EOPNOTSUPP,
                              "cgroup: a parent level is only kept on a pure cgroup-v2 host");
                return NULL;
        }
        int levels = cg_count_levels(u);
        if (levels < 2) {
                berth_err_set(err, EINVAL, "cgroup: %s is right below the root: its parent is not its own",
                              u->path);
                return NULL;
        }
        struct berth_cgroup *p = calloc(1, sizeof(*p));
        if (p && (p->h = calloc(1, sizeof(*p->h)))) {
                p->layout = BERTH_CG_UNIFIED;
                p->n = 1;
                /* Ours exactly when the container's create made it. */
                int existing = u->n_existing < 0 || u->n_existing >= levels - 1 ? -1 : u->n_existing;
                p->h[0] = (struct cg_hier){.unified = true,
                                           .name = strdup(u->name),
                                           .path = dirname_dup(u->path),
                                           .dir = dirname_dup(u->dir),
                                           .mount_len = u->mount_len,
                                           .n_existing = existing,
                                           .fd = -EBADF};
                p->id = strdup(cg->id);
        }
        if (!p || !p->h || !p->id || !p->h[0].name || !p->h[0].path || !p->h[0].dir) {
                berth_cgroup_free(p);
                berth_err_set(err, ENOMEM, "cgroup: out of memory");
                return NULL;
        }
        return p;
}

int berth_cgroup_attach_child(struct berth_cgroup *cg, const char *name, pid_t pid, struct berth_err *err)
{
        struct cg_hier *u = cg_unified(cg);
        if (cg->layout != BERTH_CG_UNIFIED || !u)
                return berth_err_set(err, EOPNOTSUPP,
                                     "cgroup: sub-cgroups are made on a pure cgroup-v2 host only");
        if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
                return berth_err_set(err, EINVAL, "cgroup: invalid sub-cgroup name \"%s\"", name);
        int fd = cg_hier_fd(u, err);
        if (fd < 0)
                return fd;
        if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "cgroup: mkdir %s/%s", u->dir, name);
        _cleanup_close_ int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0)
                return berth_err_sys(err, errno, "cgroup: open %s/%s", u->dir, name);
        int r = cg_writef(sub, "cgroup.procs", "cgroup", err, "%d", (int)pid);
        return r < 0 ? berth_err_wrap(err, "move %d into %s/%s", (int)pid, u->path, name) : 0;
}

/* Every hierarchy: what a v1 hierarchy and the unified one (or its hybrid
 * mirror) have in common is cgroup.procs in the directory above. */
int berth_cgroup_move_above(struct berth_cgroup *cg, pid_t pid, struct berth_err *err)
{
        for (size_t i = 0; i < cg->n; i++) {
                const struct cg_hier *h = &cg->h[i];
                if (cg_count_levels(h) < 1)
                        return berth_err_set(err, EINVAL, "cgroup: %s has no level above it in %s", h->path,
                                             h->name);
                _cleanup_free_ char *up = dirname_dup(h->dir);
                if (!up)
                        return berth_err_set(err, ENOMEM, "cgroup: out of memory");
                _cleanup_close_ int fd = open(up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return berth_err_sys(err, errno, "cgroup: open %s", up);
                int r = cg_writef(fd, "cgroup.procs", "cgroup", err, "%d", (int)pid);
                if (r < 0)
                        return berth_err_wrap(err, "move %d out of %s (%s)", (int)pid, h->path, h->name);
        }
        return 0;
}

int berth_cgroup_wait_empty(struct berth_cgroup *cg, int timeout_ms, struct berth_err *err)
{
        struct cg_hier *u = cg_unified(cg); /* also a hybrid host's cgroup2 hierarchy */
        if (!u)
                return berth_err_set(err, EOPNOTSUPP, "cgroup: waiting without killing needs cgroup v2");
        int fd = cg_hier_fd(u, err);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd; /* gone: empty */
        return cg_wait_events(fd, "populated", 0, timeout_ms, err);
}

int berth_cgroup_attach_sub_v1(struct berth_cgroup *cg, const char *controller, const char *sub, pid_t pid,
                               struct berth_err *err)
{
        int c = controller ? cg_ctrl_from_name(controller) : -1;
        if (controller && c < 0)
                return berth_err_set(err, EINVAL, "cgroup: unknown controller \"%s\"", controller);
        bool found = false;
        for (size_t i = 0; i < cg->n; i++) {
                struct cg_hier *h = &cg->h[i];
                if (h->unified || (controller && !(h->mask & CG_BIT(c))))
                        continue;
                found = true;
                int fd = cg_hier_fd(h, err);
                if (fd < 0)
                        return fd;
                _cleanup_close_ int dfd = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return berth_err_sys(err, errno, "cgroup: adding pid %d to %s/%s/cgroup.procs",
                                             (int)pid, h->dir, sub);
                int r = cg_writef(dfd, "cgroup.procs", "cgroup", err, "%d", (int)pid);
                if (r < 0)
                        return berth_err_wrap(err, "adding pid %d to %s/%s", (int)pid, h->dir, sub);
        }
        if (controller && !found)
                return berth_err_set(err, EINVAL,
                                     "cgroup: unknown controller \"%s\" (not in the container's cgroups)",
                                     controller);
        return 0;
}
