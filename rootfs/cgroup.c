/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "cgroup" spec mount (usually on /sys/fs/cgroup).
 *
 * Unified host: cgroup2 itself inside a cgroup namespace, else a bind of
 * the container's own cgroup directory.
 * v1 or hybrid host (as runc does): a tmpfs at the destination with one
 * directory per host hierarchy, holding either a fresh mount of that
 * hierarchy (inside a cgroup namespace its root is the container's cgroup)
 * or a bind of the container's own cgroup directory in it. Combined
 * hierarchies ("cpu,cpuacct") get a symlink per controller. The tmpfs is
 * made read-only last when the spec asks for "ro". The hierarchies and
 * our cgroup in each come from `create`'s own reading of mountinfo and
 * /proc/self/cgroup when it hands them over (opts->cgroup_mounts), else
 * from reading both here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "berth/file.h"
#include "berth/proc.h"
#include "berth/cleanup.h"
#include "berth/rootfs.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

struct cg_owner {
        char controllers[256]; /* "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
        char path[PATH_MAX];   /* the container's cgroup in that hierarchy */
};

static bool has_token(const char *list, const char *tok, size_t len)
{
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                if (n == len && strncmp(p, tok, len) == 0)
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

/* Does every controller of a /proc/self/cgroup entry appear in the
 * hierarchy's super options ("rw,cpu,cpuacct")? */
static bool controllers_match(const char *ctrls, const char *super_options)
{
        if (!*ctrls)
                return false;
        for (const char *p = ctrls; *p;) {
                size_t n = strcspn(p, ",");
                if (!has_token(super_options, p, n))
                        return false;
                p += n + (p[n] == ',');
        }
        return true;
}

/* Finds in /proc/self/cgroup text the entry of a hierarchy: "0::" for
 * cgroup2 (super_options NULL), else the one whose controllers match. */
static bool find_owner(const char *proc_cgroup, const char *super_options, struct cg_owner *out)
{
        struct berth_proc_cgroup_entry e;
        while (berth_proc_cgroup_next(&proc_cgroup, &e)) {
                if (e.controllers_len >= sizeof(out->controllers) || e.path_len >= sizeof(out->path))
                        continue;
                memcpy(out->controllers, e.controllers, e.controllers_len);
                out->controllers[e.controllers_len] = '\0';
                memcpy(out->path, e.path, e.path_len);
                out->path[e.path_len] = '\0';
                if (super_options ? controllers_match(out->controllers, super_options) : e.v2)
                        return true;
        }
        return false;
}

/* A small /proc text file whole, NUL-terminated, or NULL (errno set). */
static char *read_text(const char *path)
{
        char *text = NULL;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 64 << 20, &text, NULL);
        if (r < 0)
                errno = -r;
        return text;
}

/* Binds the host directory of our cgroup in a hierarchy mounted at
 * `mount_point` (whose root in the hierarchy is `root`). */
static int bind_own_cgroup(const char *mount_point, const char *root, const char *path,
                           const struct berth_mount *m)
{
        size_t rlen = strlen(root);
        if (strcmp(root, "/") == 0)
                rlen = 0;
        else if (strncmp(path, root, rlen) != 0 || (path[rlen] != '/' && path[rlen] != '\0'))
                return -ENOENT; /* our cgroup is not visible through this mount */
        char host[PATH_MAX];
        if (snprintf(host, sizeof(host), "%s%s", mount_point, path + rlen) >= (int)sizeof(host))
                return -ENAMETOOLONG;
        int fd = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0)
                return -errno;
        bool atime_set;
        uint64_t set = berth_ms_to_mount_attr(m->flags, &atime_set);
        int r = berth_mount_set_attrs(fd, false, set, 0, atime_set);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* The cgroup2 entry of the known hierarchies, or NULL. */
static const struct berth_cgroup_mount *known_v2(const struct berth_rootfs_opts *o)
{
        for (size_t i = 0; i < o->n_cgroup_mounts; i++)
                if (o->cgroup_mounts[i].v2)
                        return &o->cgroup_mounts[i];
        return NULL;
}

static int mount_unified(const struct berth_rootfs_opts *o, const struct berth_mount *m, int targetfd,
                         struct berth_err *err)
{
        _cleanup_close_ int mfd = -EBADF;
        if (o->new_cgroupns) {
                mfd = berth_fs_mount_new("cgroup2", "cgroup2", m->flags, NULL, err);
                if (mfd < 0)
                        return mfd;
        } else {
                const struct berth_cgroup_mount *k = known_v2(o);
                _cleanup_free_ char *text = k ? NULL : read_text("/proc/self/cgroup");
                struct cg_owner own;
                if (k)
                        snprintf(own.path, sizeof(own.path), "%s", k->path);
                else if (!text || !find_owner(text, NULL, &own))
                        return berth_err_set(err, ENOENT, "no cgroup2 entry in /proc/self/cgroup");
                mfd = bind_own_cgroup(CGROUP_ROOT, "/", own.path, m);
                if (mfd < 0)
                        return berth_err_sys(err, -mfd, "bind %s%s", CGROUP_ROOT, own.path);
        }
        int r = berth_mount_attach(mfd, targetfd);
        return r < 0 ? berth_err_sys(err, -r, "attach") : 0;
}

/* "cpu,cpuacct" -> symlinks cpu and cpuacct to it, as on the host. */
static void link_controllers(int tmpfd, const char *name)
{
        if (!strchr(name, ','))
                return;
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", name);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!strchr(t, '='))
                        (void)symlinkat(name, tmpfd, t); /* best effort, like the host's own links */
}

/* One hierarchy directory in the tmpfs: a fresh mount of it (inside a
 * cgroup namespace its root is our cgroup) or a bind of our cgroup. */
static int mount_hierarchy(const struct berth_rootfs_opts *o, const struct berth_mount *m, int tmpfd,
                           const char *mount_point, const char *root, bool v2, const struct cg_owner *own,
                           struct berth_err *err)
{
        const char *name = mount_point + strlen(CGROUP_ROOT "/");
        if (mkdirat(tmpfd, name, 0755) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", name);
        _cleanup_close_ int sub = openat(tmpfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return berth_err_sys(err, errno, "open %s", name);
        _cleanup_close_ int mfd = -EBADF;
        if (o->new_cgroupns) {
                mfd = berth_fs_mount_new(v2 ? "cgroup2" : "cgroup", "cgroup", m->flags,
                                         v2 ? NULL : own->controllers, err);
                if (mfd < 0)
                        return berth_err_wrap(err, "%s", name);
        } else {
                mfd = bind_own_cgroup(mount_point, root, own->path, m);
                if (mfd == -ENOENT)
                        return 0;
                if (mfd < 0)
                        return berth_err_sys(err, -mfd, "bind %s%s", mount_point, own->path);
        }
        int r = berth_mount_attach(mfd, sub);
        if (r < 0)
                return berth_err_sys(err, -r, "attach %s", name);
        link_controllers(tmpfd, name);
        return 0;
}

/* /sys/fs/cgroup/<name>: the mounts the container's cgroupfs shows. */
static bool is_hierarchy_dir(const char *mount_point)
{
        size_t n = strlen(CGROUP_ROOT "/");
        return strncmp(mount_point, CGROUP_ROOT "/", n) == 0 && mount_point[n] &&
               !strchr(mount_point + n, '/');
}

static int mount_read_hierarchies(const struct berth_rootfs_opts *o, const struct berth_mount *m, int tmpfd,
                                  struct berth_err *err)
{
        _cleanup_free_ char *proc_cgroup = read_text("/proc/self/cgroup");
        _cleanup_free_ char *mi = proc_cgroup ? read_text("/proc/self/mountinfo") : NULL;
        if (!mi)
                return berth_err_sys(err, errno, "read /proc/self/cgroup and mountinfo");
        char *cur = mi;
        struct berth_mountinfo_entry e;
        while (berth_mountinfo_next(&cur, &e)) {
                if (!is_hierarchy_dir(e.mount_point))
                        continue;
                bool v2 = strcmp(e.fstype, "cgroup2") == 0;
                struct cg_owner own;
                if ((!v2 && strcmp(e.fstype, "cgroup") != 0) ||
                    !find_owner(proc_cgroup, v2 ? NULL : e.super_options, &own))
                        continue; /* not a hierarchy, or one we are not in */
                int r = mount_hierarchy(o, m, tmpfd, e.mount_point, e.root, v2, &own, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The same from what the parent read before the clone (berth_cgroup_mounts). */
static int mount_known_hierarchies(const struct berth_rootfs_opts *o, const struct berth_mount *m, int tmpfd,
                                   struct berth_err *err)
{
        for (size_t i = 0; i < o->n_cgroup_mounts; i++) {
                const struct berth_cgroup_mount *k = &o->cgroup_mounts[i];
                if (!is_hierarchy_dir(k->mount_point))
                        continue;
                struct cg_owner own;
                if (snprintf(own.controllers, sizeof(own.controllers), "%s", k->controllers) >=
                        (int)sizeof(own.controllers) ||
                    snprintf(own.path, sizeof(own.path), "%s", k->path) >= (int)sizeof(own.path))
                        return berth_err_set(err, ENAMETOOLONG, "cgroup %s: name too long", k->mount_point);
                int r = mount_hierarchy(o, m, tmpfd, k->mount_point, k->root, k->v2, &own, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int berth_rootfs_mount_cgroup(const struct berth_rootfs_opts *o, const struct berth_mount *m, int targetfd,
                              struct berth_err *err)
{
        struct statfs sfs;
        if (statfs(CGROUP_ROOT, &sfs) < 0)
                return berth_err_sys(err, errno, "statfs %s", CGROUP_ROOT);
        if (sfs.f_type == CGROUP2_SUPER_MAGIC)
                return mount_unified(o, m, targetfd, err);
        /* The tmpfs stays writable until the hierarchy directories exist. */
        _cleanup_close_ int tmpfd =
            berth_fs_mount_new("tmpfs", "tmpfs", m->flags & ~(unsigned long)MS_RDONLY, "mode=755", err);
        if (tmpfd < 0)
                return tmpfd;
        int r = berth_mount_attach(tmpfd, targetfd);
        if (r < 0)
                return berth_err_sys(err, -r, "attach the cgroup tmpfs");
        r = o->cgroup_mounts ? mount_known_hierarchies(o, m, tmpfd, err)
                             : mount_read_hierarchies(o, m, tmpfd, err);
        if (r < 0)
                return r;
        if (m->flags & MS_RDONLY) {
                r = berth_mount_set_attrs(tmpfd, false, MOUNT_ATTR_RDONLY, 0, false);
                if (r < 0)
                        return berth_err_sys(err, -r, "make the cgroup tmpfs read-only");
        }
        return 0;
}

int berth_rootfs_join_cgroups(const struct berth_rootfs_opts *o, struct berth_err *err)
{
        return o->join_cgroups ? o->join_cgroups(o->join_cgroups_arg, err) : 0;
}
