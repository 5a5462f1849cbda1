/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spec's mounts, in order, below the container root.
 *
 * Each mount is built detached (open_tree for binds, fsopen/fsmount for
 * filesystems), gets its attributes, and is attached with move_mount() to
 * the destination's fd resolved inside the root (rootfs/resolve.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/idmap.h"
#include "berth/rootfs.h"

struct mounts_ctx {
        const struct berth_rootfs_opts *o;
        int rootfd;
        int *bundlefd; /* opened on the first relative source */
};

/* What the message calls the mount: its source, else its type. */
static const char *mount_name(const struct berth_mount *m)
{
        if (m->source)
                return m->source;
        return m->type ? m->type : "none";
}

static int mount_fail(const struct berth_mount *m, int r, struct berth_err *err)
{
        return berth_err_sys(err, -r, "mount \"%s\" on %s", mount_name(m), m->destination);
}

static int open_bind_source(struct mounts_ctx *c, const struct berth_mount *m)
{
        if (!m->source)
                return -EINVAL;
        int dfd = AT_FDCWD;
        if (m->source[0] != '/') {
                if (*c->bundlefd < 0) {
                        *c->bundlefd = open(c->o->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (*c->bundlefd < 0)
                                return -errno;
                }
                dfd = *c->bundlefd;
        }
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0);
        int fd = open_tree(dfd, m->source, flags);
        return fd < 0 ? -errno : fd;
}

/* Attributes asked for a bind: what is set, what is explicitly cleared
 * ("rw", "suid", ...). Like a mount(2) remount, they apply to the top mount
 * of an rbind only. */
static int bind_attrs(int mntfd, const struct berth_mount *m)
{
        bool atime_set, atime_clr;
        uint64_t set = berth_ms_to_mount_attr(m->flags, &atime_set);
        uint64_t clr = berth_ms_to_mount_attr(m->clear_flags, &atime_clr) & ~(uint64_t)MOUNT_ATTR__ATIME;
        /* Clearing noatime/strictatime means the default, relatime. */
        return berth_mount_set_attrs(mntfd, false, set, clr, atime_set || atime_clr);
}

/* The recursive attributes ("rro", "rnosuid", ...) on the whole detached
 * tree, after the mount's own flags. */
static int rec_attrs(int mntfd, const struct berth_mount *m)
{
        bool atime_set, atime_clr;
        uint64_t set = berth_ms_to_mount_attr(m->rec_flags, &atime_set);
        uint64_t clr = berth_ms_to_mount_attr(m->rec_clear_flags, &atime_clr) & ~(uint64_t)MOUNT_ATTR__ATIME;
        return berth_mount_set_attrs(mntfd, true, set, clr, atime_set || atime_clr);
}

static int resolve_target(struct mounts_ctx *c, size_t i, const struct berth_mount *m, bool want_dir,
                          struct berth_err *err)
{
        int fd = berth_in_root_mount_target(c->rootfd, m->destination, want_dir);
        if (fd == -EXDEV)
                return berth_err_set(err, EXDEV, "mounts[%zu] destination %s: resolves outside the root", i,
                                     m->destination);
        if (fd < 0)
                return berth_err_sys(err, -fd, "mounts[%zu] destination %s", i, m->destination);
        return fd;
}

/* A user namespace that does not own the network (IPC) namespace may not
 * mount sysfs (mqueue): show the host's instead, recursively bound, with
 * the flags asked for on the whole tree (runc and crun do the same).
 * Returns -ENOENT when there is no fallback. */
static int userns_fallback(const char *type, const struct berth_mount *m)
{
        const char *host = NULL;
        if (strcmp(type, "sysfs") == 0)
                host = "/sys";
        else if (strcmp(type, "mqueue") == 0)
                host = "/dev/mqueue";
        if (!host)
                return -ENOENT;
        _cleanup_close_ int fd =
            open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0)
                return -ENOENT;
        bool atime_set;
        uint64_t set = berth_ms_to_mount_attr(m->flags, &atime_set);
        if (berth_mount_set_attrs(fd, true, set, 0, atime_set) < 0)
                return -ENOENT;
        return TAKE_FD(fd);
}

/* The detached mount the parent made (rootfs/idmap.c): only a process
 * privileged in the initial user namespace may idmap a mount or reach a
 * bind source that only host root can. */
static int idmapped_mount(struct mounts_ctx *c, size_t i, bool *want_dir, struct berth_err *err)
{
        _cleanup_close_ int fd = berth_idmap_mount_fd(c->o, i, err);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return mount_fail(&c->o->spec->mounts[i], -errno, err);
        *want_dir = S_ISDIR(st.st_mode);
        return TAKE_FD(fd);
}

static bool is_tmpfs_copyup(const struct berth_mount *m)
{
        return m->tmpcopyup && !berth_mount_is_bind(m) && m->type && strcmp(m->type, "tmpfs") == 0;
}

/* Fills a tmpcopyup tmpfs before it is attached; a read-only one was made
 * writable for the copy and becomes read-only only now. */
static int fill_copyup(int targetfd, int mfd, const struct berth_mount *m, struct berth_err *err)
{
        int r = berth_tmpfs_copyup(targetfd, mfd, m, err);
        if (r < 0 || !(m->flags & MS_RDONLY))
                return r;
        r = berth_mount_set_attrs(mfd, false, MOUNT_ATTR_RDONLY, 0, false);
        return r < 0 ? mount_fail(m, r, err) : 0;
}

/* linux.mountLabel (SELinux, checked at create) as the context= option of
 * the filesystems runc labels: not procfs, sysfs or cgroups, whose labels
 * the policy fixes. NULL when there is no label to add. */
static char *with_mount_label(const char *label, const char *type, const char *data)
{
        static const char *const fixed[] = {"proc", "sysfs", "cgroup", "cgroup2", "none"};
        if (!label || !label[0])
                return NULL;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fixed); i++)
                if (!strcmp(type, fixed[i]))
                        return NULL;
        char *out = NULL;
        if (asprintf(&out, "%s%scontext=\"%s\"", data ? data : "", data ? "," : "", label) < 0)
                abort(); /* the init cannot go on unlabeled; it dies and create reports it */
        return out;
}

/* Builds the detached mount: a cloned tree for binds, a new filesystem otherwise. */
static int make_mount(struct mounts_ctx *c, size_t i, const struct berth_mount *m, bool *want_dir,
                      struct berth_err *err)
{
        *want_dir = true;
        if (berth_mount_from_parent(c->o->spec, m))
                return idmapped_mount(c, i, want_dir, err);
        if (!berth_mount_is_bind(m)) {
                const char *type = m->type ? m->type : "none";
                unsigned long flags = is_tmpfs_copyup(m) ? m->flags & ~MS_RDONLY : m->flags;
                _cleanup_free_ char *labeled = with_mount_label(c->o->spec->mount_label, type, m->data);
                int fd = berth_fs_mount_new(type, m->source, flags, labeled ? labeled : m->data, err);
                if (fd == -EPERM && c->o->in_userns) {
                        int alt = userns_fallback(type, m);
                        if (alt >= 0) /* else report why the real mount failed */
                                return alt;
                }
                if (fd < 0)
                        berth_err_wrap(err, "mount \"%s\" on %s", mount_name(m), m->destination);
                return fd;
        }
        _cleanup_close_ int fd = open_bind_source(c, m);
        if (fd < 0)
                return mount_fail(m, fd, err);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return mount_fail(m, -errno, err);
        *want_dir = S_ISDIR(st.st_mode);
        int r = bind_attrs(fd, m);
        if (r < 0)
                return mount_fail(m, r, err);
        return TAKE_FD(fd);
}

static int do_cgroup_mount(struct mounts_ctx *c, size_t i, const struct berth_mount *m, struct berth_err *err)
{
        if (m->rec_flags || m->rec_clear_flags)
                return berth_err_set(
                    err, EINVAL,
                    "mount \"%s\" on %s: recursive attributes are not supported on cgroup mounts",
                    mount_name(m), m->destination);
        int r = berth_rootfs_join_cgroups(c->o, err);
        if (r < 0)
                return r;
        _cleanup_close_ int target = resolve_target(c, i, m, true, err);
        if (target < 0)
                return target;
        r = berth_rootfs_mount_cgroup(c->o, m, target, err);
        if (r < 0)
                return berth_err_wrap(err, "mount \"%s\" on %s", mount_name(m), m->destination);
        return 0;
}

/* procfs and sysfs go exactly where the spec says: a destination that
 * exists as a symlink (or anything but a directory) is refused, as runc
 * does, rather than followed to wherever it points. */
static int check_ordinary_dir(struct mounts_ctx *c, const struct berth_mount *m, struct berth_err *err)
{
        if (berth_mount_is_bind(m) || !m->type || (strcmp(m->type, "proc") && strcmp(m->type, "sysfs")))
                return 0;
        _cleanup_close_ int fd = berth_in_root_open(c->rootfd, m->destination, O_PATH | O_NOFOLLOW);
        struct stat st;
        if (fd == -ENOENT)
                return 0;
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_err_sys(err, fd < 0 ? -fd : errno, "mount %s on %s", m->type, m->destination);
        if (!S_ISDIR(st.st_mode))
                return berth_err_set(err, ENOTDIR,
                                     "filesystem \"%s\" must be mounted on ordinary directory (%s is not)",
                                     m->type, m->destination);
        return 0;
}

/* A read-only /dev is mounted writable and made read-only at the end
 * (berth_rootfs_dev_readonly), once the mounts and nodes below it exist. */
static bool is_readonly_dev(const struct berth_mount *m)
{
        const char *d = m->destination;
        return !berth_mount_is_bind(m) && (m->flags & MS_RDONLY) && d[0] == '/' &&
               !strncmp(d + 1, "dev", 3) && d[4 + strspn(d + 4, "/")] == '\0';
}

static int do_mount(struct mounts_ctx *c, size_t i, struct berth_err *err)
{
        const struct berth_mount *m = &c->o->spec->mounts[i];
        struct berth_mount rw_dev;
        if (!berth_mount_is_idmapped(m) && !berth_mount_is_bind(m) && m->type &&
            strcmp(m->type, "cgroup") == 0)
                return do_cgroup_mount(c, i, m, err);
        int r = check_ordinary_dir(c, m, err);
        if (r < 0)
                return r;
        if (is_readonly_dev(m)) {
                rw_dev = *m;
                rw_dev.flags &= ~(unsigned long)MS_RDONLY;
                m = &rw_dev;
        }
        bool want_dir;
        _cleanup_close_ int mfd = make_mount(c, i, m, &want_dir, err);
        if (mfd < 0)
                return mfd;
        _cleanup_close_ int target = resolve_target(c, i, m, want_dir, err);
        if (target < 0)
                return target;
        r = is_tmpfs_copyup(m) ? fill_copyup(target, mfd, m, err) : 0;
        if (r < 0)
                return r;
        /* The parent set them on what it made (rootfs/idmap.c). */
        if (!berth_mount_from_parent(c->o->spec, m) && (r = rec_attrs(mfd, m)) < 0)
                return berth_err_sys(err, -r, "mount \"%s\" on %s: recursive attributes", mount_name(m),
                                     m->destination);
        r = berth_mount_attach(mfd, target);
        if (r < 0)
                return mount_fail(m, r, err);
        /* Propagation is a property of the attached mount's peer group. */
        r = berth_mount_set_propagation(mfd, berth_propagation_ms(m->propagation));
        if (r < 0)
                return berth_err_sys(err, -r, "mount \"%s\" on %s: set propagation", mount_name(m),
                                     m->destination);
        return 0;
}

int berth_rootfs_do_mounts(const struct berth_rootfs_opts *o, int rootfd, struct berth_err *err)
{
        _cleanup_close_ int bundlefd = -EBADF;
        struct mounts_ctx c = {.o = o, .rootfd = rootfd, .bundlefd = &bundlefd};
        for (size_t i = 0; i < o->spec->n_mounts; i++) {
                int r = do_mount(&c, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int berth_rootfs_dev_readonly(const struct berth_spec *spec, struct berth_err *err)
{
        bool ro = false;
        for (size_t i = 0; i < spec->n_mounts; i++) /* the last /dev mount is the one seen */
                if (spec->mounts[i].destination &&
                    !strcmp(spec->mounts[i].destination + strspn(spec->mounts[i].destination, "/"), "dev"))
                        ro = is_readonly_dev(&spec->mounts[i]);
        if (!ro)
                return 0;
        _cleanup_close_ int fd = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open /dev");
        int r = berth_mount_set_attrs(fd, false, MOUNT_ATTR_RDONLY, 0, false);
        return r < 0 ? berth_err_sys(err, -r, "make /dev read-only") : 0;
}
