/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One clone3 call creates the init in its namespaces and its cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/container.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Our own copy of the kernel's struct clone_args (v2, with cgroup), so that
 * <sched.h> and <linux/sched.h> need not be mixed. */
struct berth_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
            set_tid_size, cgroup;
};

pid_t clone3_pidfd(uint64_t flags, int cgroup_fd, int *pidfd)
{
        struct berth_clone_args a;
        memset(&a, 0, sizeof(a));
        a.flags = flags | CLONE_PIDFD;
        a.pidfd = (uint64_t)(uintptr_t)pidfd;
        a.exit_signal = SIGCHLD;
        if (cgroup_fd >= 0) {
                a.flags |= CLONE_INTO_CGROUP;
                a.cgroup = (uint64_t)cgroup_fd;
        }
        return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

/* A pid namespace given by path is entered by the parent just for the
 * clone (setns on a pid namespace only affects children), then left. */
static int enter_pid_ns_for_clone(struct container_setup *s, int *saved, struct berth_err *err)
{
        *saved = -EBADF;
        if (s->two_stage || s->ns_fds[BERTH_NS_PID] < 0)
                return 0;
        *saved = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (*saved < 0)
                return berth_err_sys(err, errno, "open own pid namespace");
        if (setns(s->ns_fds[BERTH_NS_PID], CLONE_NEWPID) < 0)
                return berth_err_sys(err, errno, "join pid namespace %s",
                                     s->spec->namespaces[BERTH_NS_PID].path);
        return 0;
}

pid_t container_clone(struct container_setup *s, int cgroup_fd, int *pidfd, struct berth_err *err)
{
        _cleanup_close_ int saved_pidns = -EBADF;
        int r = enter_pid_ns_for_clone(s, &saved_pidns, err);
        if (r < 0)
                return r;
        *pidfd = -EBADF;
        /* The child makes itself non-dumpable first thing, but it may be
         * born into a pid namespace that is already in use (a path given):
         * inherit the flag instead, so that no process there ever sees a
         * dumpable copy of berth (CVE-2019-5736), as exec.c does. */
        prctl(PR_SET_DUMPABLE, 0);
        pid_t pid = clone3_pidfd(s->clone_flags, cgroup_fd, pidfd);
        if (pid == 0)
                container_child_main(s);
        int e = errno;
        if (saved_pidns >= 0 && setns(saved_pidns, CLONE_NEWPID) < 0 && pid > 0) {
                e = errno;
                berth_kill_and_reap(&pid);
                return berth_err_sys(err, e, "return to own pid namespace");
        }
        if (pid < 0)
                return berth_err_sys(err, e, "clone container init");
        return pid;
}
