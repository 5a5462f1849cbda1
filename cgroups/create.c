/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Creating the container's cgroup: the missing levels in every hierarchy
 * (remembering which ones were ours), cpuset and controller setup on the
 * way down, then the limits; on any failure the levels made here go again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

/* A new v1 cpuset starts with empty cpus and mems, and a task cannot join
 * it until both are set: copy the parent's. */
int cg_v1_cpuset_init(int parent_fd, int child_fd, struct berth_err *err)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *cur = NULL, *par = NULL;
                int r = cg_read(child_fd, files[i], &cur, err);
                if (r < 0)
                        return r;
                if (cur[strspn(cur, " \n")] != '\0')
                        continue;
                if ((r = cg_read(parent_fd, files[i], &par, err)) < 0)
                        return r;
                par[strcspn(par, "\n")] = '\0';
                if ((r = cg_write(child_fd, files[i], par, "cpuset", err)) < 0)
                        return r;
        }
        return 0;
}

static bool word_in(const char *list, const char *w)
{
        size_t wl = strlen(w);
        for (const char *p = list; (p = strstr(p, w)); p += wl)
                if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0'))
                        return true;
        return false;
}

/* Enables in `dfd`'s subtree_control every controller it has available and
 * not yet enabled, so that the container gets limits and accounting. */
static int enable_controllers(int dfd, const char *where, struct berth_err *err)
{
        static const char *const want[] = {"cpuset",  "cpu",  "io",   "memory",
                                           "hugetlb", "pids", "rdma", "misc"};
        _cleanup_free_ char *avail = NULL, *on = NULL;
        int r = cg_read(dfd, "cgroup.controllers", &avail, err);
        if (r < 0 || (r = cg_read(dfd, "cgroup.subtree_control", &on, err)) < 0)
                return berth_err_wrap(err, "cgroup %s", where);
        char buf[256] = "";
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(want); i++)
                if (word_in(avail, want[i]) && !word_in(on, want[i]))
                        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s+%s", buf[0] ? " " : "",
                                 want[i]);
        if (!buf[0])
                return 0;
        r = cg_write(dfd, "cgroup.subtree_control", buf, "cgroup", err);
        if (r == -EBUSY)
                return berth_err_set(
                    err, EBUSY,
                    "cgroup: cannot enable '%s' in %s: it has processes of its own and cgroup v2 "
                    "gives controllers only to cgroups without them; use a cgroupsPath outside "
                    "the caller's cgroup",
                    buf, where);
        return r < 0 ? berth_err_wrap(err, "in %s", where) : 0;
}

int cg_count_levels(const struct cg_hier *h)
{
        int n = 0;
        for (const char *p = h->dir + h->mount_len; *p; p++)
                if (*p == '/' && p[1] && p[1] != '/')
                        n++;
        return n;
}

/* Goes down from the mount point, mkdir'ing what is missing. */
static int make_levels(struct cg_hier *h, bool v2, struct berth_err *err)
{
        _cleanup_free_ char *mnt = strndup(h->dir, h->mount_len);
        if (!mnt)
                return berth_err_sys(err, ENOMEM, "cgroup");
        _cleanup_close_ int cur = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return berth_err_sys(err, errno, "cgroup: open %s", mnt);
        int existing = 0;
        bool made = false;
        const char *p = h->dir + h->mount_len;
        while (*p) {
                while (*p == '/')
                        p++;
                size_t cl = strcspn(p, "/");
                if (cl == 0)
                        break;
                _cleanup_free_ char *comp = strndup(p, cl), *where = strndup(h->dir, (size_t)(p - h->dir));
                if (!comp || !where)
                        return berth_err_sys(err, ENOMEM, "cgroup");
                int r = v2 ? enable_controllers(cur, where, err) : 0;
                if (r < 0)
                        return r;
                if (mkdirat(cur, comp, 0755) == 0) {
                        made = true;
                        h->n_existing = existing;
                } else if (errno != EEXIST) {
                        return berth_err_sys(err, errno, "cgroup: mkdir %s/%s", where, comp);
                } else if (!made) {
                        existing++;
                }
                int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (next < 0)
                        return berth_err_sys(err, errno, "cgroup: open %s/%s", where, comp);
                /* Every level, not only ours: a level another create just
                 * made may not have its cpus and mems yet (it copies them
                 * after its mkdir), and a child copied from it would get
                 * none (ENOSPC when the init joins). Only an empty file is
                 * written, so a populated cgroup is never changed. */
                if ((h->mask & CG_BIT(CG_CPUSET)) && (r = cg_v1_cpuset_init(cur, next, err)) < 0) {
                        close(next);
                        return r;
                }
                close(cur);
                cur = next;
                p += cl;
        }
        if (!made)
                h->n_existing = existing;
        h->fd = TAKE_FD(cur);
        return 0;
}

/* rmdir the levels of h that create() made, deepest first. Intermediate
 * levels still used by another container stay (EBUSY); the leaf must go. */
int cg_remove_levels(struct cg_hier *h, struct berth_err *err)
{
        if (h->n_existing < 0)
                return 0;
        int levels = cg_count_levels(h);
        _cleanup_free_ char *d = strdup(h->dir);
        if (!d)
                return berth_err_sys(err, ENOMEM, "cgroup");
        for (int l = levels; l > h->n_existing; l--) {
                if (rmdir(d) < 0 && errno != ENOENT) {
                        if (l == levels || (errno != EBUSY && errno != ENOTEMPTY))
                                return berth_err_sys(err, errno, "cgroup: rmdir %s", d);
                        break;
                }
                char *slash = strrchr(d, '/');
                if (!slash || (size_t)(slash - d) < h->mount_len)
                        break;
                *slash = '\0';
        }
        h->n_existing = -1;
        return 0;
}

/* Closes and removes what create made: every hierarchy, or only the v1
 * ones (the unified level may hold the cloned init by then). */
static void undo(struct berth_cgroup *cg, bool v1_only)
{
        for (size_t i = 0; i < cg->n; i++) {
                struct cg_hier *h = &cg->h[i];
                if (v1_only && h->unified)
                        continue;
                if (h->fd >= 0) {
                        close(h->fd);
                        h->fd = -EBADF;
                }
                cg_remove_levels(h, NULL);
        }
}

/* The unified part: levels, device filter, limits (v2) or raw keys (hybrid). */
static int create_unified(struct berth_cgroup *cg, struct berth_err *err)
{
        struct cg_hier *u = cg_unified(cg);
        if (!u)
                return 0;
        int r = make_levels(u, cg->layout == BERTH_CG_UNIFIED, err);
        if (r >= 0 && !cg_devices_on_v1(cg, cg->res))
                r = cg_apply_devices(cg, cg->res, err);
        return r < 0 ? r : cg_v2_apply(cg, cg->res, false, err);
}

static int create_v1(struct berth_cgroup *cg, struct berth_err *err)
{
        int r = 0;
        for (size_t i = 0; i < cg->n && r >= 0; i++)
                if (!cg->h[i].unified)
                        r = make_levels(&cg->h[i], false, err);
        if (r >= 0 && cg_devices_on_v1(cg, cg->res))
                r = cg_apply_devices(cg, cg->res, err);
        return r < 0 || cg->layout == BERTH_CG_UNIFIED ? r : cg_v1_apply(cg, cg->res, false, err);
}

int berth_cgroup_create_for_clone(struct berth_cgroup *cg, struct berth_err *err)
{
        int r = create_unified(cg, err);
        if (r < 0) {
                undo(cg, false);
                return berth_err_wrap(err, "create cgroup %s", berth_cgroup_path(cg));
        }
        return 0;
}

int berth_cgroup_create_v1(struct berth_cgroup *cg, struct berth_err *err)
{
        int r = create_v1(cg, err);
        if (r < 0) {
                undo(cg, true);
                return berth_err_wrap(err, "create cgroup %s", berth_cgroup_path(cg));
        }
        cg->res = NULL;
        return 0;
}

int berth_cgroup_create(struct berth_cgroup *cg, struct berth_err *err)
{
        int r = berth_cgroup_create_for_clone(cg, err);
        if (r >= 0 && (r = berth_cgroup_create_v1(cg, err)) < 0)
                undo(cg, false);
        return r;
}
