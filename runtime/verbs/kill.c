/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kill: signals the init (race-free through a pidfd) or every process. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/container.h"
#include "runtime/container.h"

/* "container not running" is runc's text: containerd's runc shim matches
 * it to tell a process that already finished from a real failure. */
int container_open_init(const struct berth_state *st, struct berth_err *err)
{
        int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (fd < 0)
                return berth_err_set(err, ESRCH, "container not running: %s", st->id);
        if (!berth_state_init_alive(st)) {
                close(fd);
                return berth_err_set(err, ESRCH, "container not running: %s", st->id);
        }
        return fd;
}

static int kill_all(const struct berth_state *st, int sig, struct berth_err *err)
{
        struct berth_cgroup *cg = berth_cgroup_restore(st->cgroup, err);
        if (!cg)
                return -err->code;
        int r = berth_cgroup_kill(cg, sig, err);
        berth_cgroup_free(cg);
        return r;
}

/* A stopped container: its init is gone, but without a pid namespace of
 * its own its other processes may live on in its cgroup. --all signals
 * them and, as runc, succeeds when there is nothing left to signal:
 * containerd's runc shim sends `kill --all ID KILL` whenever a task
 * exits and takes a failure for a process it cannot reap. */
static int kill_stopped(const struct berth_container_info *info, int sig, bool all, struct berth_err *err)
{
        if (!all || info->status != BERTH_STATUS_STOPPED)
                return berth_err_set(err, ESRCH, "container not running: %s (%s)", info->st.id,
                                     berth_status_name(info->status));
        if (!info->st.cgroup)
                return 0;
        struct berth_err cg_err = {0};
        int r = kill_all(&info->st, sig, &cg_err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                *err = cg_err;
        return r;
}

int berth_container_kill(const struct berth_ctx *ctx, const char *id, int sig, bool all,
                         struct berth_err *err)
{
        struct berth_container_info info;
        int r = berth_container_load(ctx, id, &info, err);
        if (r < 0)
                return r;
        berth_trace(ctx, "kill '%s': %s, init %d, signal %d to %s", id, berth_status_name(info.status),
                    (int)info.st.pid, sig,
                    all && info.st.cgroup ? "every process (cgroup)" : "the init (pidfd)");
        if (info.status == BERTH_STATUS_UNKNOWN) {
                r = container_damaged_err(&info, "kill", err);
        } else if (info.status == BERTH_STATUS_STOPPED || info.status == BERTH_STATUS_CREATING) {
                r = kill_stopped(&info, sig, all, err);
        } else if (all && info.st.cgroup) {
                r = kill_all(&info.st, sig, err);
        } else {
                _cleanup_close_ int pidfd = container_open_init(&info.st, err);
                r = pidfd;
                if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                        r = errno == ESRCH ? berth_err_set(err, ESRCH, "container not running: %s", id)
                                           : berth_err_sys(err, errno, "kill container %s", id);
        }
        berth_container_info_clear(&info);
        if (r >= 0)
                berth_trace(ctx, "kill '%s': sent", id);
        return r < 0 ? r : 0;
}

int berth_signal_parse(const char *s)
{
        static const struct {
                const char *name;
                int sig;
        } table[] = {
            {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
            {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
            {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
            {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
            {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
            {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
            {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
            {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
            {"SYS", SIGSYS},
        };
        char *end;
        long n = strtol(s, &end, 10);
        if (*s && !*end)
                return n > 0 && n < _NSIG ? (int)n : -EINVAL;
        const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(table); i++)
                if (!strcasecmp(name, table[i].name))
                        return table[i].sig;
        /* RTMIN, RTMIN+3, RTMAX-2 (systemd's stop signal is SIGRTMIN+3). */
        if (!strncasecmp(name, "RTMIN", 5) || !strncasecmp(name, "RTMAX", 5)) {
                int base = !strncasecmp(name, "RTMIN", 5) ? SIGRTMIN : SIGRTMAX;
                long off = name[5] ? strtol(name + 5, &end, 10) : 0;
                int sig = base + (int)off;
                return (!name[5] || !*end) && sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -EINVAL;
        }
        return -EINVAL;
}
