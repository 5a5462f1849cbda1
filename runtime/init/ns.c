/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The init joins namespaces by path and creates the ones the clone could not. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/init/steps.h"
#include "runtime/init/sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int child_join_namespaces(struct container_setup *s, struct berth_err *err)
{
        /* The user namespace first: it grants the privilege to join the rest.
         * The pid namespace was entered by the parent around the clone. */
        static const enum berth_ns_type order[] = {BERTH_NS_USER, BERTH_NS_IPC,    BERTH_NS_UTS,
                                                   BERTH_NS_NET,  BERTH_NS_CGROUP, BERTH_NS_TIME,
                                                   BERTH_NS_MOUNT};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(order); i++) {
                enum berth_ns_type t = order[i];
                if (s->ns_fds[t] < 0)
                        continue;
                if (setns(s->ns_fds[t], (int)container_ns_flag(t)) < 0)
                        return berth_err_sys(err, errno, "join %s namespace %s", berth_ns_type_name(t),
                                             s->spec->namespaces[t].path);
        }
        return 0;
}

static int write_time_offsets(const struct berth_spec *spec, struct berth_err *err)
{
        static const char *const names[2] = {"monotonic", "boottime"};
        char buf[128];
        size_t len = 0;
        for (int i = 0; i < 2; i++)
                if (spec->time_offsets[i].present)
                        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %lld %u\n", names[i],
                                                (long long)spec->time_offsets[i].secs,
                                                spec->time_offsets[i].nanosecs);
        if (len == 0)
                return 0;
        _cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
                return berth_err_sys(err, errno, "linux.timeOffsets: write timens_offsets");
        return 0;
}

int child_unshare_early(struct container_setup *s, struct berth_err *err)
{
        unsigned long flags = s->early_unshare_flags;
        if (flags && unshare((int)flags) < 0)
                return berth_err_sys(err, errno, "create namespaces (flags 0x%lx)", flags);
        return 0;
}

/* Two-stage only: the parent writes the maps of the user ns we just made. */
static int request_id_maps(struct container_setup *s, struct berth_err *err)
{
        int r = sync_send(s->sync_fd, SYNC_WRITE_MAPS, 0, NULL);
        if (r < 0)
                return berth_err_sys(err, -r, "sync with parent");
        return sync_expect(s->sync_fd, SYNC_PROCEED, NULL, err);
}

/* unshare(CLONE_NEWPID) only affects children: fork the real init, report
 * its pid (in our, the host's, pid namespace) and leave. */
static int fork_into_pid_ns(struct container_setup *s, struct berth_err *err)
{
        if (unshare(CLONE_NEWPID) < 0)
                return berth_err_sys(err, errno, "create pid namespace");
        pid_t pid = fork();
        if (pid < 0)
                return berth_err_sys(err, errno, "fork init into pid namespace");
        if (pid > 0) {
                sync_send(s->sync_fd, SYNC_GRANDCHILD_PID, pid, NULL);
                _exit(0);
        }
        return 0;
}

int child_unshare_namespaces(struct container_setup *s, struct berth_err *err)
{
        unsigned long flags = s->unshare_flags & ~(unsigned long)CLONE_NEWPID;
        /* Rooted where the init's cgroups are: made when it joins them. */
        if (s->join_cgroups_late)
                flags &= ~(unsigned long)CLONE_NEWCGROUP;
        /* The user namespace must exist before the others so that it owns them. */
        if ((flags & CLONE_NEWUSER) && unshare(CLONE_NEWUSER) < 0)
                return berth_err_sys(err, errno, "create user namespace");
        if ((flags & CLONE_NEWUSER) && request_id_maps(s, err) < 0)
                return -err->code;
        flags &= ~(unsigned long)CLONE_NEWUSER;
        if (flags && unshare((int)flags) < 0)
                return berth_err_sys(err, errno, "create namespaces (flags 0x%lx)", flags);
        if ((flags & CLONE_NEWTIME) && write_time_offsets(s->spec, err) < 0)
                return -err->code;
        if (s->unshare_flags & CLONE_NEWPID)
                return fork_into_pid_ns(s, err);
        return 0;
}
