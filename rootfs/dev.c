/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /dev inside the container: linux.devices, the default device nodes and
 * the usual symlinks (what runc and crun provide).
 *
 * Without a user namespace the nodes are mknod'ed. In a user namespace
 * mknod of devices is refused, so the host's node is bind-mounted onto an
 * empty file instead; this runs before pivot_root, while the host's /dev is
 * still reachable. Nodes are created under umask 0 so modes are exact. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

static const struct {
        const char *path;
        unsigned major, minor;
} default_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

const char *berth_rootfs_default_device(size_t i)
{
        return i < BERTH_ARRAY_SIZE(default_devices) ? default_devices[i].path : NULL;
}

static const struct {
        const char *name, *target;
} default_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
};

static mode_t type_bits(char type)
{
        switch (type) {
        case 'b':
                return S_IFBLK;
        case 'p':
                return S_IFIFO;
        default: /* 'c' and 'u' (unbuffered character device) */
                return S_IFCHR;
        }
}

/* The host node to bind in a user namespace: the same path, else the
 * /dev/char|block/M:m link udev keeps; it must be the very device asked for. */
static int open_host_node(const struct berth_device *d, struct berth_err *err)
{
        _cleanup_close_ int fd = open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                char alt[64];
                snprintf(alt, sizeof(alt), "/dev/%s/%lld:%lld", d->type == 'b' ? "block" : "char",
                         (long long)d->major, (long long)d->minor);
                fd = open_tree(AT_FDCWD, alt, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        }
        if (fd < 0)
                return berth_err_sys(err, errno, "device %s: host node", d->path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_err_sys(err, errno, "device %s: host node", d->path);
        if ((st.st_mode & S_IFMT) != type_bits(d->type) ||
            st.st_rdev != makedev((unsigned)d->major, (unsigned)d->minor))
                return berth_err_set(err, ENODEV, "device %s: the host node is not %c %lld:%lld", d->path,
                                     d->type, (long long)d->major, (long long)d->minor);
        return TAKE_FD(fd);
}

static int bind_host_node(int pfd, const char *name, const struct berth_device *d, struct berth_err *err)
{
        _cleanup_close_ int host = open_host_node(d, err);
        if (host < 0)
                return host;
        int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
        if (f < 0)
                return berth_err_sys(err, errno, "device %s", d->path);
        close(f);
        _cleanup_close_ int target = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return berth_err_sys(err, errno, "device %s", d->path);
        int r = berth_mount_attach(host, target);
        if (r < 0)
                return berth_err_sys(err, -r, "device %s: bind the host node", d->path);
        return 0;
}

static int mknod_node(int pfd, const char *name, const struct berth_device *d, struct berth_err *err)
{
        mode_t mode = (d->has_file_mode ? d->file_mode & 07777 : 0666) | type_bits(d->type);
        dev_t dev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
        if (mknodat(pfd, name, mode, dev) < 0)
                return berth_err_sys(err, errno, "device %s: mknod", d->path);
        if ((d->has_uid || d->has_gid) && fchownat(pfd, name, d->has_uid ? d->uid : (uid_t)-1,
                                                   d->has_gid ? d->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_err_sys(err, errno, "device %s: chown", d->path);
        return 0;
}

/* Creates one node. An existing entry is replaced for linux.devices (the
 * spec wins) and left alone for the defaults. */
static int make_device(const struct berth_rootfs_opts *o, int rootfd, const struct berth_device *d,
                       bool replace, struct berth_err *err)
{
        char parent[4096];
        const char *slash = strrchr(d->path, '/');
        if (!slash || slash[1] == '\0' || (size_t)(slash - d->path) >= sizeof(parent))
                return berth_err_set(err, EINVAL, "device %s: invalid path", d->path);
        const char *name = slash + 1;
        memcpy(parent, d->path, (size_t)(slash - d->path));
        parent[slash - d->path] = '\0';
        _cleanup_close_ int pfd = berth_in_root_mkdir_p(rootfd, *parent ? parent : "/", 0755);
        if (pfd < 0)
                return berth_err_sys(err, -pfd, "device %s", d->path);
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!replace)
                        return 0;
                if (unlinkat(pfd, name, 0) < 0)
                        return berth_err_sys(err, errno, "device %s: replace", d->path);
        }
        /* A fifo needs no privilege, so it is made even in a user namespace. */
        if (o->in_userns && d->type != 'p')
                return bind_host_node(pfd, name, d, err);
        return mknod_node(pfd, name, d, err);
}

static int make_defaults(const struct berth_rootfs_opts *o, int rootfd, struct berth_err *err)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_devices); i++) {
                struct berth_device d = {
                    .path = (char *)default_devices[i].path,
                    .type = 'c',
                    .major = default_devices[i].major,
                    .minor = default_devices[i].minor,
                    .has_file_mode = true,
                    .file_mode = 0666,
                };
                int r = make_device(o, rootfd, &d, false, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int devfd = berth_in_root_open(rootfd, "/dev", O_PATH | O_DIRECTORY);
        if (devfd < 0)
                return berth_err_sys(err, -devfd, "/dev");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_links); i++)
                if (symlinkat(default_links[i].target, devfd, default_links[i].name) < 0 && errno != EEXIST)
                        return berth_err_sys(err, errno, "symlink /dev/%s", default_links[i].name);
        /* /dev/ptmx must be the devpts instance's own ptmx, whatever was there. */
        if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "remove /dev/ptmx");
        if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
                return berth_err_sys(err, errno, "symlink /dev/ptmx");
        /* POSIX shared memory (shm_open, sem_open) lives in /dev/shm. */
        if (o->dev_tmpfs_shared && mkdirat(devfd, "shm", 01777) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir /dev/shm");
        return 0;
}

/* The last spec mount on /dev decides what /dev is. */
static const struct berth_mount *dev_mount(const struct berth_spec *s)
{
        const struct berth_mount *found = NULL;
        for (size_t i = 0; i < s->n_mounts; i++) {
                const char *d = s->mounts[i].destination;
                size_t len = strlen(d);
                while (len > 1 && d[len - 1] == '/')
                        len--;
                if (len == 4 && strncmp(d, "/dev", 4) == 0)
                        found = &s->mounts[i];
        }
        return found;
}

int berth_rootfs_setup_dev(const struct berth_rootfs_opts *o, int rootfd, struct berth_err *err)
{
        const struct berth_mount *dm = dev_mount(o->spec);
        /* A /dev bound from the host is the host's: never mknod into it. */
        if (dm && berth_mount_is_bind(dm))
                return 0;
        if (!dm && o->spec->n_devices == 0)
                return 0;
        mode_t old_umask = umask(0);
        int r = 0;
        for (size_t i = 0; i < o->spec->n_devices && r >= 0; i++)
                r = make_device(o, rootfd, &o->spec->devices[i], true, err);
        if (r >= 0 && dm)
                r = make_defaults(o, rootfd, err);
        umask(old_umask);
        return r;
}
