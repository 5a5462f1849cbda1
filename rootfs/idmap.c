/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Idmapped mounts: made detached by the privileged parent, attached by the
 * container init (see include/berth/idmap.h for the protocol). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/idmap.h"
#include "berth/rootfs.h"

/* The kernel's SCM_MAX_FD: the most fds one SCM_RIGHTS message carries. */
#define IDMAP_MAX_FDS 253

bool berth_mount_is_idmapped(const struct berth_mount *m)
{
        return m->idmap || m->ridmap;
}

bool berth_mount_from_parent(const struct berth_spec *spec, const struct berth_mount *m)
{
        return berth_mount_is_idmapped(m) ||
               (spec->namespaces[BERTH_NS_USER].present && berth_mount_is_bind(m));
}

size_t berth_idmap_count(const struct berth_spec *spec)
{
        size_t n = 0;
        for (size_t i = 0; i < spec->n_mounts; i++)
                n += berth_mount_from_parent(spec, &spec->mounts[i]);
        return n;
}

/* ---- throwaway user namespaces ------------------------------------------ */

static int write_map(pid_t pid, const char *file, const struct berth_id_mapping *m, size_t n,
                     struct berth_err *err)
{
        char buf[4096];
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                                 m[i].size);
                if (w < 0 || (size_t)w >= sizeof(buf) - len)
                        return berth_err_set(err, E2BIG, "%s: too many mappings", file);
                len += (size_t)w;
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
                return berth_err_sys(err, errno, "write %s of the id-mapping namespace", file);
        return 0;
}

/* The child only unshares, says so, and waits for the pipe to close: a
 * namespace fd keeps the namespace alive after it exits. Only
 * async-signal-safe calls after fork. */
__attribute__((noreturn)) static void userns_child(int ready_w, int go_r, int go_w)
{
        close(go_w); /* else our own copy keeps the pipe open */
        char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        if (write(ready_w, &c, 1) != 1)
                _exit(1);
        while (read(go_r, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(0);
}

static int userns_of_child(pid_t pid, const struct berth_id_mapping *uid, size_t n_uid,
                           const struct berth_id_mapping *gid, size_t n_gid, struct berth_err *err)
{
        int r = write_map(pid, "uid_map", uid, n_uid, err);
        if (r < 0)
                return r;
        r = write_map(pid, "gid_map", gid, n_gid, err);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? berth_err_sys(err, errno, "open %s", path) : fd;
}

int berth_userns_new(const struct berth_id_mapping *uid, size_t n_uid, const struct berth_id_mapping *gid,
                     size_t n_gid, struct berth_err *err)
{
        if (!n_uid || !n_gid)
                return berth_err_set(err, EINVAL,
                                     "id-mapping namespace: both uid and gid mappings are needed");
        int ready[2], go[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "pipe");
        _cleanup_close_ int ready_r = ready[0], ready_w = ready[1];
        if (pipe2(go, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "pipe");
        _cleanup_close_ int go_r = go[0], go_w = go[1];
        _cleanup_reap_ pid_t pid = fork();
        if (pid < 0)
                return berth_err_sys(err, errno, "fork");
        if (pid == 0)
                userns_child(ready_w, go_r, go_w);
        berth_closep(&ready_w);
        ready_w = -EBADF;
        char c = 0;
        ssize_t got;
        while ((got = read(ready_r, &c, 1)) < 0 && errno == EINTR)
                ;
        if (got != 1 || c != 'y')
                return berth_err_set(err, EPERM, "id-mapping namespace: unshare(CLONE_NEWUSER) failed");
        int fd = userns_of_child(pid, uid, n_uid, gid, n_gid, err);
        berth_closep(&go_w); /* lets the child exit */
        go_w = -EBADF;
        waitpid(pid, NULL, 0);
        pid = 0;
        return fd;
}

/* ---- making the mounts (parent) ----------------------------------------- */

static int set_idmap(int mntfd, bool recursive, int userns_fd)
{
        struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
        unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        return mount_setattr(mntfd, "", flags, &a, sizeof(a)) < 0 ? -errno : 0;
}

int berth_idmap_clone(int dfd, const char *path, bool recursive, bool idmap_tree, int userns_fd,
                      struct berth_err *err)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
        _cleanup_close_ int fd = open_tree(dfd, path, flags);
        if (fd < 0)
                return berth_err_sys(err, errno, "clone %s", path);
        if (userns_fd < 0) /* a plain bind, opened here for its source only */
                return TAKE_FD(fd);
        int r = set_idmap(fd, recursive && idmap_tree, userns_fd);
        if (r < 0)
                return berth_err_sys(err, -r, "idmap %s", path);
        return TAKE_FD(fd);
}

/* The user namespace whose maps the mount gets: its own maps in a new
 * namespace, else (a dup of) the container's. */
static int mount_userns(const struct berth_mount *m, int container_userns_fd, struct berth_err *err)
{
        if (m->n_uid_mappings || m->n_gid_mappings)
                return berth_userns_new(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                        m->n_gid_mappings, err);
        if (container_userns_fd < 0)
                return berth_err_set(
                    err, EINVAL, "idmapped mount needs a user namespace or its own uidMappings/gidMappings");
        int fd = fcntl(container_userns_fd, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? berth_err_sys(err, errno, "dup user namespace fd") : fd;
}

/* The directory a bind source is relative to: the bundle for a relative
 * source (opened once), AT_FDCWD for an absolute one. */
static int bind_source_dir(const struct berth_mount *m, const char *bundle, int *bundlefd, int *dfd,
                           struct berth_err *err)
{
        if (!m->source)
                return berth_err_set(err, EINVAL, "bind mount without a source");
        *dfd = AT_FDCWD;
        if (m->source[0] == '/')
                return 0;
        if (*bundlefd < 0) {
                *bundlefd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (*bundlefd < 0)
                        return berth_err_sys(err, errno, "open bundle %s", bundle);
        }
        *dfd = *bundlefd;
        return 0;
}

/* The flags asked for ("ro", "nosuid", "rw", ...) on the top mount, as a
 * remount of a bind would. */
static int apply_bind_flags(int mntfd, const struct berth_mount *m)
{
        bool atime_set, atime_clr;
        uint64_t set = berth_ms_to_mount_attr(m->flags, &atime_set);
        uint64_t clr = berth_ms_to_mount_attr(m->clear_flags, &atime_clr) & ~(uint64_t)MOUNT_ATTR__ATIME;
        return berth_mount_set_attrs(mntfd, false, set, clr, atime_set || atime_clr);
}

/* The recursive attributes ("rro", ...) on the whole tree: here, since
 * only a process privileged where the detached mount was made may set them. */
static int apply_rec_flags(int mntfd, const struct berth_mount *m)
{
        bool atime_set, atime_clr;
        uint64_t set = berth_ms_to_mount_attr(m->rec_flags, &atime_set);
        uint64_t clr = berth_ms_to_mount_attr(m->rec_clear_flags, &atime_clr) & ~(uint64_t)MOUNT_ATTR__ATIME;
        return berth_mount_set_attrs(mntfd, true, set, clr, atime_set || atime_clr);
}

static int prepare_bind(const struct berth_mount *m, const char *bundle, int *bundlefd, int userns_fd,
                        struct berth_err *err)
{
        int dfd;
        int r = bind_source_dir(m, bundle, bundlefd, &dfd, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = berth_idmap_clone(dfd, m->source, m->recursive, m->ridmap, userns_fd, err);
        if (fd < 0)
                return fd;
        r = apply_bind_flags(fd, m);
        if (r < 0)
                return berth_err_sys(err, -r, "set mount flags");
        r = apply_rec_flags(fd, m);
        if (r < 0)
                return berth_err_sys(err, -r, "set recursive mount attributes");
        return TAKE_FD(fd);
}

/* A new filesystem (tmpfs, a block device...) made here and idmapped before
 * anyone sees it. */
static int prepare_fs(const struct berth_mount *m, int userns_fd, struct berth_err *err)
{
        _cleanup_close_ int fd =
            berth_fs_mount_new(m->type ? m->type : "none", m->source, m->flags, m->data, err);
        if (fd < 0)
                return fd;
        int r = set_idmap(fd, false, userns_fd);
        if (r < 0)
                return berth_err_sys(err, -r, "idmap");
        return TAKE_FD(fd);
}

static int prepare_one(const struct berth_mount *m, const char *bundle, int *bundlefd,
                       int container_userns_fd, struct berth_err *err)
{
        if (!berth_mount_is_idmapped(m))
                return prepare_bind(m, bundle, bundlefd, -EBADF, err);
        _cleanup_close_ int userns = mount_userns(m, container_userns_fd, err);
        if (userns < 0)
                return userns;
        if (berth_mount_is_bind(m))
                return prepare_bind(m, bundle, bundlefd, userns, err);
        return prepare_fs(m, userns, err);
}

void berth_idmap_fds_free(int *fds, size_t n)
{
        for (size_t i = 0; fds && i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}

int berth_idmap_prepare(const struct berth_spec *spec, const char *bundle, int container_userns_fd, int **fds,
                        size_t *n, struct berth_err *err)
{
        *fds = NULL;
        *n = 0;
        size_t want = berth_idmap_count(spec);
        if (want == 0)
                return 0;
        if (want > IDMAP_MAX_FDS)
                return berth_err_set(err, E2BIG, "too many idmapped mounts (%zu, at most %d)", want,
                                     IDMAP_MAX_FDS);
        int *out = malloc(want * sizeof(*out));
        if (!out)
                return berth_err_set(err, ENOMEM, "idmapped mounts");
        _cleanup_close_ int bundlefd = -EBADF;
        size_t k = 0;
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct berth_mount *m = &spec->mounts[i];
                if (!berth_mount_from_parent(spec, m))
                        continue;
                int fd = prepare_one(m, bundle, &bundlefd, container_userns_fd, err);
                if (fd < 0) {
                        berth_idmap_fds_free(out, k);
                        return berth_err_wrap(err, "%smount \"%s\" on %s",
                                              berth_mount_is_idmapped(m) ? "idmapped " : "",
                                              m->source ? m->source : "none", m->destination);
                }
                out[k++] = fd;
        }
        *fds = out;
        *n = k;
        return 0;
}

/* ---- passing the fds to the init ---------------------------------------- */

int berth_idmap_send_fds(int sock, const int *fds, size_t n, struct berth_err *err)
{
        if (n == 0)
                return 0;
        if (n > IDMAP_MAX_FDS)
                return berth_err_set(err, E2BIG, "too many idmapped mounts");
        char data[] = "idmap";
        struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
        size_t space = CMSG_SPACE(n * sizeof(int));
        _cleanup_free_ char *ctl = calloc(1, space);
        if (!ctl)
                return berth_err_set(err, ENOMEM, "send idmapped mounts");
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = space};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
        ssize_t r;
        while ((r = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        return r < 0 ? berth_err_sys(err, errno, "send idmapped mounts") : 0;
}

/* Takes the fds out of the control message; closes all of them unless
 * there are exactly n. */
static int take_fds(struct msghdr *mh, size_t n, int *out)
{
        size_t got = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int tmp[IDMAP_MAX_FDS];
                memcpy(tmp, CMSG_DATA(c), k * sizeof(int));
                for (size_t j = 0; j < k; j++) {
                        if (got < n)
                                out[got] = tmp[j];
                        else
                                close(tmp[j]);
                        got++;
                }
        }
        if (got == n && !(mh->msg_flags & MSG_CTRUNC))
                return 0;
        for (size_t j = 0; j < got && j < n; j++)
                close(out[j]);
        return -EPROTO;
}

int berth_idmap_recv_fds(int sock, size_t n, int **fds, struct berth_err *err)
{
        *fds = NULL;
        if (n == 0)
                return 0;
        if (n > IDMAP_MAX_FDS)
                return berth_err_set(err, E2BIG, "too many idmapped mounts");
        char data[16];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
        size_t space = CMSG_SPACE(IDMAP_MAX_FDS * sizeof(int));
        _cleanup_free_ char *ctl = calloc(1, space);
        _cleanup_free_ int *out = calloc(n, sizeof(int));
        if (!ctl || !out)
                return berth_err_set(err, ENOMEM, "receive idmapped mounts");
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = space};
        ssize_t r;
        while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return berth_err_sys(err, errno, "receive idmapped mounts");
        if (r == 0)
                return berth_err_set(err, EPIPE, "receive idmapped mounts: parent went away");
        if (take_fds(&mh, n, out) < 0)
                return berth_err_set(err, EPROTO, "receive idmapped mounts: expected %zu fds", n);
        *fds = TAKE_PTR(out);
        return 0;
}

/* ---- attaching them (container init) ------------------------------------ */

int berth_idmap_mount_fd(const struct berth_rootfs_opts *o, size_t mount_index, struct berth_err *err)
{
        const struct berth_mount *m = &o->spec->mounts[mount_index];
        size_t k = 0;
        for (size_t i = 0; i < mount_index; i++)
                k += berth_mount_from_parent(o->spec, &o->spec->mounts[i]);
        if (!o->idmap_fds || k >= o->n_idmap_fds)
                return berth_err_set(err, EOPNOTSUPP, "mount \"%s\" on %s: the runtime did not prepare it",
                                     m->source ? m->source : "none", m->destination);
        int fd = fcntl(o->idmap_fds[k], F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return berth_err_sys(err, errno, "mount \"%s\" on %s: prepared mount fd",
                                     m->source ? m->source : "none", m->destination);
        return fd;
}
