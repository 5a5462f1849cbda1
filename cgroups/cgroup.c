/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container cgroup object: resolution (berth_cgroup_new), accessors,
 * and attaching a process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

void cg_hier_clear(struct cg_hier *h)
{
        free(h->name);
        free(h->path);
        free(h->dir);
        if (h->fd >= 0)
                close(h->fd);
        h->name = h->path = h->dir = NULL;
        h->fd = -EBADF;
}

void berth_cgroup_free(struct berth_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n; i++)
                cg_hier_clear(&cg->h[i]);
        free(cg->h);
        for (size_t i = 0; i < cg->n_mounts; i++) {
                free(cg->mounts[i].mount_point);
                free(cg->mounts[i].root);
                free(cg->mounts[i].controllers);
                free(cg->mounts[i].path);
        }
        free(cg->mounts);
        free(cg->id);
        free(cg->warnings);
        free(cg);
}

struct cg_hier *cg_unified(const struct berth_cgroup *cg)
{
        for (size_t i = 0; i < cg->n; i++)
                if (cg->h[i].unified)
                        return &cg->h[i];
        return NULL;
}

struct cg_hier *cg_v1(const struct berth_cgroup *cg, enum cg_ctrl c)
{
        for (size_t i = 0; i < cg->n; i++)
                if (!cg->h[i].unified && (cg->h[i].mask & CG_BIT(c)))
                        return &cg->h[i];
        return NULL;
}

struct cg_hier *cg_primary(const struct berth_cgroup *cg)
{
        struct cg_hier *h = cg_unified(cg);
        if (!h)
                h = cg_v1(cg, CG_FREEZER);
        if (!h && cg->n > 0)
                h = &cg->h[0];
        return h;
}

int cg_hier_fd(struct cg_hier *h, struct berth_err *err)
{
        if (h->fd >= 0)
                return h->fd;
        h->fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h->fd < 0) {
                int e = errno;
                h->fd = -EBADF;
                return berth_err_sys(err, e, "cgroup: open %s", h->dir);
        }
        return h->fd;
}

void cg_warn(struct berth_cgroup *cg, const char *fmt, ...)
{
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        char *n = NULL;
        if (asprintf(&n, "%s%s%s", cg->warnings ? cg->warnings : "", cg->warnings ? "\n" : "", line) < 0)
                return;
        free(cg->warnings);
        cg->warnings = n;
}

const char *berth_cgroup_warnings(const struct berth_cgroup *cg)
{
        return cg->warnings;
}

enum berth_cgroup_layout berth_cgroup_layout(const struct berth_cgroup *cg)
{
        return cg->layout;
}

const char *berth_cgroup_path(const struct berth_cgroup *cg)
{
        const struct cg_hier *h = cg_unified(cg);
        if (!h)
                h = cg_v1(cg, CG_MEMORY);
        if (!h)
                h = cg_primary(cg);
        return h ? h->path : NULL;
}

int berth_cgroup_clone_fd(const struct berth_cgroup *cg)
{
        const struct cg_hier *h = cg_unified(cg);
        return h && h->fd >= 0 ? h->fd : -1;
}

/* The controllers a resource needs, for "not mounted" errors. */
static const char *ctrl_user(enum cg_ctrl c)
{
        switch (c) {
        case CG_HUGETLB:
                return "hugepageLimits";
        case CG_NET_CLS:
                return "network.classID";
        case CG_NET_PRIO:
                return "network.priorities";
        case CG_BLKIO:
                return "blockIO";
        case CG_CPUSET:
                return "cpu.cpus/cpu.mems";
        default:
                return "the container";
        }
}

static int add_hier(struct berth_cgroup *cg, const struct cg_mount *m, const struct berth_cgroup_opts *o,
                    struct berth_err *err)
{
        struct cg_hier *nh = realloc(cg->h, (cg->n + 1) * sizeof(*nh));
        if (!nh)
                return berth_err_sys(err, ENOMEM, "cgroup");
        cg->h = nh;
        struct cg_hier *h = &cg->h[cg->n];
        *h = (struct cg_hier){.unified = m->unified, .mask = m->mask, .n_existing = -1, .fd = -EBADF};
        cg->n++;
        char names[256] = "";
        for (int c = 0; c < CG_NCTRL; c++)
                if (m->mask & CG_BIT(c))
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                 names[0] ? "," : "", cg_ctrl_name(c));
        h->name = strdup(m->unified ? "unified" : names[0] ? names : m->name ? m->name : "?");
        h->path = cg_resolve_path(m->own, o->path, o->id, err);
        if (!h->name || !h->path)
                return h->name ? -err->code : berth_err_sys(err, ENOMEM, "cgroup");
        h->dir = cg_fs_dir(m->mountpoint, m->root, h->path, err);
        h->mount_len = strlen(m->mountpoint);
        return h->dir ? 0 : -err->code;
}

/* The one named hierarchy runc joins too; others (mounted by some other
 * tool) are left alone. */
static bool is_systemd(const struct cg_mount *m)
{
        return !m->mask && m->name && strcmp(m->name, "systemd") == 0;
}

static int pick_hierarchies(struct berth_cgroup *cg, const struct cg_host *host,
                            const struct berth_cgroup_opts *o, struct berth_err *err)
{
        unsigned need = host->layout == BERTH_CG_UNIFIED ? 0 : cg_needed_v1(o->resources, host->layout);
        unsigned have = 0;
        int r;
        for (size_t i = 0; i < host->n; i++) {
                const struct cg_mount *m = &host->m[i];
                if (m->unified && host->layout == BERTH_CG_LEGACY)
                        continue;
                if (!m->unified && host->layout == BERTH_CG_UNIFIED)
                        continue;
                bool want = m->unified || (m->mask & need) || (o->join_all_v1 && (m->mask || is_systemd(m)));
                if (want && (r = add_hier(cg, m, o, err)) < 0)
                        return r;
                have |= m->mask;
        }
        for (int c = 0; c < CG_NCTRL; c++)
                if ((need & CG_BIT(c)) && !(have & CG_BIT(c)))
                        return berth_err_set(err, ENODEV,
                                             "cgroup: %s needs the %s controller, which is not mounted",
                                             ctrl_user(c), cg_ctrl_name(c));
        if (cg->n == 0 || (host->layout != BERTH_CG_LEGACY && !cg_unified(cg)))
                return berth_err_set(err, ENODEV, "cgroup: no usable cgroup hierarchy is mounted");
        return 0;
}

/* Named hierarchies (name=systemd) have no controllers: their name tells. */
static const char *hier_named(const struct cg_hier *h)
{
        return !h->unified && !h->mask ? h->name : NULL;
}

/* The container's hierarchy for a host mount, if it joins it. */
static const struct cg_hier *joined(const struct berth_cgroup *cg, const struct cg_mount *m)
{
        for (size_t i = 0; i < cg->n; i++) {
                const struct cg_hier *h = &cg->h[i];
                if (h->unified != m->unified || (!m->unified && h->mask != m->mask))
                        continue;
                if (m->unified || m->mask || (m->name && strcmp(hier_named(h), m->name) == 0))
                        return h;
        }
        return NULL;
}

/* What the init's /proc/self/cgroup will say once it has joined, next to
 * mountinfo's view: read here once, for the container's cgroupfs. */
static int build_mounts(struct berth_cgroup *cg, const struct cg_host *host, struct berth_err *err)
{
        cg->mounts = calloc(host->n + 1, sizeof(*cg->mounts));
        if (!cg->mounts)
                return berth_err_sys(err, ENOMEM, "cgroup");
        for (size_t i = 0; i < host->n; i++) {
                const struct cg_mount *m = &host->m[i];
                const struct cg_hier *h = joined(cg, m);
                if (!m->own || (!m->unified && !m->ctrls))
                        continue; /* the caller is not in it: the container does not see it */
                struct berth_cgroup_mount *v = &cg->mounts[cg->n_mounts++];
                v->v2 = m->unified;
                v->mount_point = strdup(m->mountpoint);
                v->root = strdup(m->root);
                v->controllers = strdup(m->unified ? "" : m->ctrls);
                v->path = strdup(h ? h->path : m->own);
                if (!v->mount_point || !v->root || !v->controllers || !v->path)
                        return berth_err_sys(err, ENOMEM, "cgroup");
        }
        return 0;
}

const struct berth_cgroup_mount *berth_cgroup_mounts(const struct berth_cgroup *cg, size_t *n)
{
        *n = cg->n_mounts;
        return cg->n_mounts ? cg->mounts : NULL;
}

struct berth_cgroup *berth_cgroup_new(const struct berth_cgroup_opts *o, struct berth_err *err)
{
        struct cg_host host = {0};
        int r = cg_host_load(&host, err);
        if (r < 0) {
                cg_host_clear(&host);
                return NULL;
        }
        struct berth_cgroup *cg = calloc(1, sizeof(*cg));
        if (!cg) {
                cg_host_clear(&host);
                return berth_err_sys(err, ENOMEM, "cgroup"), NULL;
        }
        cg->layout = host.layout;
        cg->res = o->resources;
        cg->default_devices = o->default_devices;
        cg->id = strdup(o->id ? o->id : "");
        r = cg->id ? pick_hierarchies(cg, &host, o, err) : berth_err_sys(err, ENOMEM, "cgroup");
        if (r >= 0)
                r = build_mounts(cg, &host, err);
        cg_host_clear(&host);
        if (r < 0) {
                berth_cgroup_free(cg);
                return NULL;
        }
        return cg;
}

/* path is top or a cgroup below it. */
static bool path_within(const char *path, const char *top)
{
        size_t n = strcmp(top, "/") == 0 ? 0 : strlen(top);
        return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Is pid already in h (per /proc/<pid>/cgroup), in the container's cgroup
 * or below it? A guest that manages its own tree
 * (systemd) keeps its processes in sub-cgroups, and so may exec. */
static bool pid_in(const char *proc_cgroup, const struct cg_hier *h)
{
        char *path = cg_proc_cgroup_path(proc_cgroup, h->unified, h->mask, hier_named(h));
        bool in = path && path_within(path, h->path);
        free(path);
        return in;
}

int berth_cgroup_open_pid_dir(const struct berth_cgroup *cg, pid_t pid, struct berth_err *err)
{
        const struct cg_hier *h = cg_unified(cg);
        if (!h || h->fd < 0)
                return berth_err_set(err, ENOENT, "cgroup: no unified hierarchy");
        char file[64];
        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
        _cleanup_free_ char *pc = NULL;
        int r = cg_read(AT_FDCWD, file, &pc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cg_proc_cgroup_path(pc, true, 0, NULL);
        if (!path || !path_within(path, h->path))
                return berth_err_set(err, ESRCH, "cgroup: process %d is not in %s", (int)pid, h->path);
        const char *rel = path + (strcmp(h->path, "/") == 0 ? 0 : strlen(h->path));
        rel += strspn(rel, "/");
        /* The names below the container's cgroup are the guest's: stay beneath it. */
        struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
        int fd = (int)syscall(SYS_openat2, h->fd, *rel ? rel : ".", &how, sizeof(how));
        return fd >= 0 ? fd : berth_err_sys(err, errno, "cgroup: open %s%s", h->dir, path + strlen(h->path));
}

int berth_cgroup_attach_self(struct berth_cgroup *cg, struct berth_err *err)
{
        for (size_t i = 0; i < cg->n; i++) {
                struct cg_hier *h = &cg->h[i];
                if (h->unified)
                        continue;
                /* A child cloned before create_v1 has no fd of the new
                 * directory: one open of the file by path, not two. */
                char tasks[PATH_MAX];
                if (snprintf(tasks, sizeof(tasks), "%s/tasks", h->dir) >= (int)sizeof(tasks))
                        return berth_err_set(err, ENAMETOOLONG, "cgroup: %s/tasks", h->dir);
                int r =
                    cg_write(h->fd >= 0 ? h->fd : AT_FDCWD, h->fd >= 0 ? "tasks" : tasks, "0", "cgroup", err);
                if (r < 0)
                        return berth_err_wrap(err, "join %s", h->dir);
        }
        return 0;
}

int berth_cgroup_attach(struct berth_cgroup *cg, pid_t pid, struct berth_err *err)
{
        char file[64];
        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
        _cleanup_free_ char *pc = NULL;
        int r = cg_read(AT_FDCWD, file, &pc, err);
        if (r < 0)
                return berth_err_wrap(err, "cgroup: attach %d", (int)pid);
        for (size_t i = 0; i < cg->n; i++) {
                struct cg_hier *h = &cg->h[i];
                if (pid_in(pc, h))
                        continue;
                int fd = cg_hier_fd(h, err);
                if (fd < 0)
                        return fd;
                if ((r = cg_writef(fd, "cgroup.procs", "cgroup", err, "%d", (int)pid)) < 0)
                        return berth_err_wrap(err, "attach %d to %s", (int)pid, h->dir);
        }
        return 0;
}
