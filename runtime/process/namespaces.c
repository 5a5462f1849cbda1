/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which namespaces the clone creates, which the init creates itself, and
 * which it joins by path. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/container.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

unsigned long container_ns_flag(enum berth_ns_type t)
{
        static const unsigned long flags[BERTH_NS_COUNT] = {
            [BERTH_NS_PID] = CLONE_NEWPID,       [BERTH_NS_NET] = CLONE_NEWNET,
            [BERTH_NS_MOUNT] = CLONE_NEWNS,      [BERTH_NS_IPC] = CLONE_NEWIPC,
            [BERTH_NS_UTS] = CLONE_NEWUTS,       [BERTH_NS_USER] = CLONE_NEWUSER,
            [BERTH_NS_CGROUP] = CLONE_NEWCGROUP, [BERTH_NS_TIME] = CLONE_NEWTIME,
        };
        return flags[t];
}

const char *container_ns_names(unsigned long flags, char *buf, size_t len)
{
        static const char *const names[BERTH_NS_COUNT] = {
            [BERTH_NS_PID] = "pid",       [BERTH_NS_NET] = "net",   [BERTH_NS_MOUNT] = "mnt",
            [BERTH_NS_IPC] = "ipc",       [BERTH_NS_UTS] = "uts",   [BERTH_NS_USER] = "user",
            [BERTH_NS_CGROUP] = "cgroup", [BERTH_NS_TIME] = "time",
        };
        size_t n = 0;
        buf[0] = '\0';
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                if ((flags & container_ns_flag(t)) && n < len)
                        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[t]);
        if (!n)
                snprintf(buf, len, "none");
        return buf;
}

/* Opens a namespace path and checks that it is of the expected kind. */
static int open_ns_path(enum berth_ns_type t, const char *path, struct berth_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "linux.namespaces: %s namespace path %s",
                                     berth_ns_type_name(t), path);
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0)
                return berth_err_set(err, EINVAL, "linux.namespaces: %s is not a namespace file", path);
        if ((unsigned long)type != container_ns_flag(t))
                return berth_err_set(err, EINVAL, "linux.namespaces: %s is not a %s namespace", path,
                                     berth_ns_type_name(t));
        return TAKE_FD(fd);
}

int container_plan_namespaces(struct container_setup *s, struct berth_err *err)
{
        unsigned long new_flags = 0;
        for (int t = 0; t < BERTH_NS_COUNT; t++) {
                s->ns_fds[t] = -EBADF;
                const struct berth_namespace *ns = &s->spec->namespaces[t];
                if (!ns->present)
                        continue;
                if (!ns->path) {
                        new_flags |= container_ns_flag(t);
                        continue;
                }
                int fd = open_ns_path(t, ns->path, err);
                if (fd < 0) {
                        container_close_ns_fds(s);
                        return fd;
                }
                s->ns_fds[t] = fd;
        }
        s->new_userns = new_flags & CLONE_NEWUSER;
        bool user_path = s->ns_fds[BERTH_NS_USER] >= 0, other_paths = false;
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                other_paths |= t != BERTH_NS_USER && t != BERTH_NS_PID && s->ns_fds[t] >= 0;
        /* Namespaces are owned by the user namespace of their creator, and
         * joining one needs privilege over its owner. So when a user
         * namespace is involved together with paths, the init is cloned
         * bare, joins first and then creates the rest itself (asking the
         * parent for id maps, forking once more for a new pid namespace). */
        s->two_stage = (user_path && new_flags) || (s->new_userns && other_paths);
        if (s->two_stage) {
                s->clone_flags = 0;
                s->unshare_flags = new_flags;
                return 0;
        }
        /* Time offsets can only be written before a process enters the time
         * namespace, and the cgroup namespace must be rooted at the cgroup
         * the parent attaches the init to after the clone: the init creates
         * both itself, once that is done. */
        s->unshare_flags = new_flags & (CLONE_NEWTIME | CLONE_NEWCGROUP);
        s->clone_flags = new_flags & ~s->unshare_flags;
        return 0;
}

void container_defer_namespaces(struct container_setup *s)
{
        /* With a new user namespace the parent writes its id maps first;
         * a joined one makes this a two-stage start anyway. */
        if (s->two_stage || s->new_userns)
                return;
        unsigned long early = s->clone_flags & (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
        s->clone_flags &= ~early;
        s->early_unshare_flags = early;
}

void container_close_ns_fds(struct container_setup *s)
{
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                if (s->ns_fds[t] >= 0) {
                        close(s->ns_fds[t]);
                        s->ns_fds[t] = -EBADF;
                }
}

static int write_map(pid_t pid, const char *file, const struct berth_id_mapping *m, size_t n,
                     struct berth_err *err)
{
        char buf[4096];
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof(buf); i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
                                        m[i].host_id, m[i].size);
        if (len >= sizeof(buf))
                return berth_err_set(err, E2BIG, "%s: too many mappings", file);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
                return berth_err_sys(err, errno, "write %s", file);
        return 0;
}

int container_write_id_maps(const struct berth_spec *spec, pid_t pid, struct berth_err *err)
{
        int r = write_map(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, err);
        if (r < 0)
                return r;
        return write_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err);
}
