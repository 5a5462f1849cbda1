/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fault-injection stepper shared by the crash suites (itest_crash.c
 * for the OCI verbs, vps/vps_crash_test.sh through the vps-stepper tool for
 * the VPS verbs): runs a command under ptrace, counts its syscall stops and
 * SIGKILLs it at the Nth one -- the command alone, or with every process it
 * started. No Check dependency: it returns errors, the caller asserts. */
#ifndef BERTH_ITEST_STEPPER_H
#define BERTH_ITEST_STEPPER_H

#include <stdbool.h>
#include <sys/types.h>

enum itest_kill_mode {
        ITEST_KILL_CLI, /* SIGKILL the traced command only */
        ITEST_KILL_ALL, /* and, first, every descendant of the kill root */
};

struct itest_step {
        const char *const *argv; /* argv[0]: absolute path */
        const char *log;         /* the command's stdout and stderr (appended) */
        int at;                  /* kill at this syscall stop; <= 0: never */
        enum itest_kill_mode mode;
        int stop_timeout_s; /* longest wait for one stop: a hang */
        /* ITEST_KILL_ALL kills the descendants of this pid (0: the traced
         * command). A caller that is a child subreaper passes its own pid:
         * then processes that detached from the command (a daemonized
         * console keeper) are found too. */
        pid_t kill_root;
        /* ITEST_KILL_ALL also kills these (and their descendants): what
         * the command did not start but works with, e.g. the console
         * keeper and the guest of the VPS that `vps stop` stops. Each is
         * pinned by a pidfd when the run begins: one that ends before the
         * kill is skipped, never its pid's next owner (another test's
         * process, on a busy host whose pids wrap in seconds). */
        const pid_t *also;
        size_t n_also; /* at most ITEST_ALSO_MAX */
};
#define ITEST_ALSO_MAX 16

/* Runs s->argv under ptrace, killing it at stop s->at. Returns the number
 * of syscall stops seen (>= 0), -ETIMEDOUT when the command hung for
 * s->stop_timeout_s between two stops (it is killed), or -errno. *killed
 * says whether the kill came before the command ended on its own. */
int itest_step_run(const struct itest_step *s, bool *killed);

/* SIGKILLs every descendant of root (not root), repeating while a pass
 * still finds one. Returns how many it killed. */
int itest_kill_descendants(pid_t root);

#endif
