// SPDX-License-Identifier: GPL-2.0-or-later
/* exec --cgroup: which sub-cgroup of the container's the process joins.
 *
 * As runc: "PATH" names a sub-cgroup in every hierarchy (the only form on
 * cgroup v2, and it may be given once); on cgroup v1 "CTRL[,CTRL]:PATH"
 * names one for those controllers, repeatable. "/" is the container's own
 * cgroup; a path with ".." would leave it and is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "runtime/verbs/exec_internal.h"

static int check_path(const char *path, struct berth_err *err)
{
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return berth_err_set(err, EINVAL, "--cgroup: %s is not a sub cgroup path", path);
                p += n;
                p += strspn(p, "/");
        }
        return 0;
}

/* The path relative to the container's cgroup; "" for the cgroup itself. */
static const char *relative(const char *path)
{
        return path + strspn(path, "/");
}

int exec_cgroup_check(const struct berth_exec_opts *o, bool unified, struct berth_err *err)
{
        for (size_t i = 0; i < o->n_cgroups; i++) {
                const char *a = o->cgroups[i], *colon = strchr(a, ':');
                const char *path = colon ? colon + 1 : a;
                int r = check_path(path, err);
                if (r < 0)
                        return r;
                if (!colon && o->n_cgroups > 1)
                        return berth_err_set(
                            err, EINVAL, "invalid --cgroup argument: %s (missing <controller>: prefix)", a);
                if (colon && (colon == a || strstr(a, ",,") || a[0] == ',' || colon[-1] == ','))
                        return berth_err_set(err, EINVAL,
                                             "invalid --cgroup argument: %s (empty <controller> prefix)", a);
                if (colon && strchr(colon + 1, ':'))
                        return berth_err_set(err, EINVAL, "invalid --cgroup argument: %s", a);
                if (colon && unified)
                        return berth_err_set(
                            err, EINVAL,
                            "--cgroup %s: a <controller>: prefix needs cgroup v1 (this host has v2)", a);
        }
        return 0;
}

int exec_cgroup_open_unified(const struct berth_exec_opts *o, int base, bool required, struct berth_err *err)
{
        if (o->n_cgroups != 1 || strchr(o->cgroups[0], ':') || base < 0)
                return -EBADF;
        const char *rel = relative(o->cgroups[0]);
        if (!rel[0])
                return -EBADF;
        int fd = openat(base, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && required)
                return berth_err_sys(err, errno, "exec --cgroup %s", o->cgroups[0]);
        /* Hybrid: a sub-cgroup made in v1 hierarchies (from inside, say)
         * has no twin in the empty v2 one; the container's cgroup is it. */
        return fd < 0 ? -EBADF : fd;
}

static int attach_controllers(struct berth_cgroup *cg, const char *arg, pid_t pid, struct berth_err *err)
{
        const char *colon = strchr(arg, ':');
        const char *rel = relative(colon + 1);
        _cleanup_free_ char *ctrls = strndup(arg, (size_t)(colon - arg));
        if (!ctrls)
                return berth_err_sys(err, ENOMEM, "exec --cgroup");
        if (!rel[0])
                rel = "."; /* the container's own cgroup (joined already; the names are checked) */
        char *save = NULL;
        for (char *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                int r = berth_cgroup_attach_sub_v1(cg, c, rel, pid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int exec_cgroup_attach_v1(const struct berth_exec_opts *o, struct berth_cgroup *cg, pid_t pid,
                          struct berth_err *err)
{
        for (size_t i = 0; i < o->n_cgroups; i++) {
                const char *a = o->cgroups[i];
                int r;
                if (strchr(a, ':'))
                        r = attach_controllers(cg, a, pid, err);
                else
                        r = relative(a)[0] ? berth_cgroup_attach_sub_v1(cg, NULL, relative(a), pid, err) : 0;
                if (r < 0)
                        return berth_err_wrap(err, "exec --cgroup %s", a);
        }
        return 0;
}
