/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The exec'd process: joins the container's namespaces through the init's
 * pidfd (one setns call), then takes the same last steps as the init. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/process.h"
#include "runtime/container.h"
#include "runtime/verbs/exec_internal.h"
#include "runtime/init/sync.h"

/* Every namespace the container has of its own, except pid: the parent
 * entered that one for us before the clone (it only affects children). */
static int join_container(const struct exec_child *c, struct berth_err *err)
{
        /* Host root still, so chroot is allowed whatever the user ns. */
        if (c->root_fd >= 0 && (fchdir(c->root_fd) < 0 || chroot(".") < 0))
                return berth_err_sys(err, errno, "enter the container's root");
        unsigned long flags = 0;
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                if (t != BERTH_NS_PID && c->spec->namespaces[t].present)
                        flags |= container_ns_flag(t);
        if (flags && setns(c->init_pidfd, (int)flags) < 0)
                return berth_err_sys(err, errno, "join the container's namespaces");
        if (c->spec->namespaces[BERTH_NS_USER].present && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                return berth_err_sys(err, errno, "become root in the container's user namespace");
        /* A session of its own, with or without a terminal: the caller's
         * terminal is not its controlling terminal, so it cannot TIOCSTI
         * into it without CAP_SYS_ADMIN, gets none of its job-control
         * signals, and cannot open /dev/tty to reach it. */
        if (setsid() < 0)
                return berth_err_sys(err, errno, "setsid");
        return 0;
}

static int set_stdio(const struct exec_child *c, struct berth_err *err)
{
        for (int fd = 0; c->stdio && fd < 3; fd++)
                if (c->stdio[fd] != fd && dup2(c->stdio[fd], fd) < 0)
                        return berth_err_sys(err, errno, "set up fd %d", fd);
        return 0;
}

void exec_child_main(struct exec_child *c)
{
        struct berth_err err = {0};
        char exe[PATH_MAX];
        const struct berth_process *p = &c->spec->process;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* We are the host's berth binary inside the container's pid
         * namespace until execve: keep the container away from our
         * /proc/<pid>/exe and memory (CVE-2019-5736). The exec itself goes
         * through the trampoline's sealed memfd, never this binary. */
        prctl(PR_SET_DUMPABLE, 0);
        if (set_stdio(c, &err) < 0 || fence_fds(c->preserve_fds, &err) < 0 ||
            sync_expect(c->sync_fd, SYNC_PROCEED, NULL, &err) < 0 || join_container(c, &err) < 0 ||
            terminal_setup(p, c->console_sock, false, c->console_relayed, &err) < 0)
                sync_fail(c->sync_fd, &err);
        if (chdir_in_root(p->cwd, &err) < 0 ||
            berth_exe_lookup(p->args[0], p->env, exe, sizeof(exe), &err) < 0)
                sync_fail(c->sync_fd, &err);
        prctl(PR_SET_PDEATHSIG, 0);
        /* The trampoline that does the execve reports its failure to the
         * parent like sync_fail. */
        struct berth_exec_ctx x = {.process = p,
                                   .seccomp = c->spec->has_seccomp ? &c->spec->seccomp : NULL,
                                   .exe = exe,
                                   .report = BERTH_EXEC_REPORT_SYNC,
                                   .report_fd = c->sync_fd,
                                   .seccomp_notify = sync_send_seccomp_fd,
                                   .seccomp_notify_arg = (void *)(intptr_t)c->sync_fd};
        berth_process_exec(&x, &err);
        sync_fail(c->sync_fd, &err);
}
