/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ptrace fault-injection stepper (stepper.h). */
#include "stepper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TREE 512

static void exec_traced(const char *const *argv, const char *log)
{
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        syscall(SYS_close_range, 3, ~0U, 0);
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        execv(argv[0], (char *const *)argv);
        _exit(127);
}

static pid_t ppid_of(const char *pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", pid);
        FILE *f = fopen(path, "re");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        int ppid = 0;
        char state;
        return p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 ? ppid : 0;
}

/* Adds to set every process whose parent is in it, until a scan adds none. */
static size_t grow_tree(pid_t *set, size_t n)
{
        for (size_t grew = 1; grew;) {
                grew = 0;
                DIR *d = opendir("/proc");
                struct dirent *e;
                while (d && (e = readdir(d)) && n < MAX_TREE) {
                        if (e->d_name[0] < '0' || e->d_name[0] > '9')
                                continue;
                        pid_t pid = atoi(e->d_name), pp = ppid_of(e->d_name);
                        bool in = false, parent_in = false;
                        for (size_t i = 0; i < n; i++) {
                                in |= set[i] == pid;
                                parent_in |= set[i] == pp;
                        }
                        if (!in && parent_in) {
                                set[n++] = pid;
                                grew = 1;
                        }
                }
                if (d)
                        closedir(d);
        }
        return n;
}

/* The traced command is stopped, so it forks no more; its children may:
 * repeat until a pass finds none. */
int itest_kill_descendants(pid_t root)
{
        int total = 0;
        for (int pass = 0; pass < 20; pass++) {
                pid_t set[MAX_TREE] = {root};
                size_t n = grow_tree(set, 1), killed = 0;
                for (size_t i = 1; i < n; i++)
                        if (kill(set[i], SIGKILL) == 0)
                                killed++;
                total += (int)killed;
                if (killed == 0)
                        break;
        }
        return total;
}

/* Waits for the tracee's next stop or end, bounded. */
static int wait_tracee(pid_t pid, int *status, int timeout_s)
{
        for (long i = 0; i < timeout_s * 1000L; i++) {
                pid_t r = waitpid(pid, status, __WALL | WNOHANG);
                if (r == pid)
                        return 0;
                if (r < 0)
                        return -errno;
                struct timespec ts = {0, i < 100 ? 20000 : 1000000};
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

/* The --also processes as they are now, before the command runs: -1 for
 * one already gone. */
static void pin_also(const struct itest_step *s, int fds[ITEST_ALSO_MAX])
{
        for (size_t i = 0; i < ITEST_ALSO_MAX; i++)
                fds[i] = i < s->n_also ? (int)syscall(SYS_pidfd_open, s->also[i], 0) : -1;
}

static void unpin_also(int fds[ITEST_ALSO_MAX])
{
        for (size_t i = 0; i < ITEST_ALSO_MAX; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

static void kill_at_stop(pid_t pid, const struct itest_step *s, const int also_fds[ITEST_ALSO_MAX])
{
        int status;
        if (s->mode == ITEST_KILL_ALL) {
                /* Through the pidfd: a pinned process that has ended fails
                 * the signal, and its pid's descendants are not its own. */
                for (size_t i = 0; i < s->n_also; i++)
                        if (also_fds[i] >= 0 &&
                            syscall(SYS_pidfd_send_signal, also_fds[i], SIGKILL, NULL, 0) == 0)
                                itest_kill_descendants(s->also[i]);
                itest_kill_descendants(s->kill_root > 0 ? s->kill_root : pid);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, __WALL);
}

static int step_run(const struct itest_step *s, const int also_fds[ITEST_ALSO_MAX], bool *killed);

int itest_step_run(const struct itest_step *s, bool *killed)
{
        if (s->n_also > ITEST_ALSO_MAX)
                return -E2BIG;
        int also_fds[ITEST_ALSO_MAX];
        pin_also(s, also_fds);
        int r = step_run(s, also_fds, killed);
        unpin_also(also_fds);
        return r;
}

static int step_run(const struct itest_step *s, const int also_fds[ITEST_ALSO_MAX], bool *killed)
{
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                exec_traced(s->argv, s->log);
        int status, stops = 0, sig = 0;
        *killed = false;
        int r = wait_tracee(pid, &status, s->stop_timeout_s);
        if (r < 0 || !WIFSTOPPED(status)) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, __WALL);
                return r < 0 ? r : -ECHILD;
        }
        ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
        for (;;) {
                ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig);
                r = wait_tracee(pid, &status, s->stop_timeout_s);
                if (r < 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, __WALL);
                        return r;
                }
                if (WIFEXITED(status) || WIFSIGNALED(status))
                        return stops;
                sig = 0;
                if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
                        /* A signal for the tracee (SIGCHLD...): pass it on;
                         * the initial exec SIGTRAP is ours. */
                        sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
                        continue;
                }
                if (++stops != s->at)
                        continue;
                kill_at_stop(pid, s, also_fds);
                *killed = true;
                return stops;
        }
}
