/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The console keeper's handovers between executables.
 *
 * `vps start` forks the keeper (K) from berth-full (console.c), and a fork
 * keeps, privately, every page the parent had dirtied: berth-full's and
 * its libraries' relocated data, the heap and stack that building the
 * container grew. That is most of what a running VPS costs the host
 * beyond its guest. So once K has forked the worker, it execs the small
 * static berth next to berth-full for its loop (keeper.c), which needs
 * nothing of berth-full's libraries:
 *
 *   K --exec--> berth _vps-keeper NAME DATA WORKER FDS DISK
 *                  the loop, until the guest's init is gone
 *     --exec--> berth-full _vps-keeper-end NAME DATA LOG LOCK STATUS
 *                  only when the cleanup is the keeper's (a guest that
 *                  powered off or rebooted by itself, guest_exit.c)
 *
 * What carries over each exec: the pid (the worker and the init stay its
 * children), the child subreaper flag, the blocked SIGCHLD that the
 * signalfd reads, an ignored SIGPIPE, and the fds whose numbers argv
 * names; the rest are close-on-exec. Without the static berth (a build
 * without it, or --systemd-cgroup, which the static berth hands to
 * berth-full anyway) K serves as the fork it is. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/self_exe.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define KEEPER_VERB     "_vps-keeper"
#define KEEPER_END_VERB "_vps-keeper-end"

/* argv of each verb, from the verb's name on. */
enum { K_VERB, K_NAME, K_DATA, K_WORKER, K_FDS, K_DISK, K_ARGC };
enum { E_VERB, E_NAME, E_DATA, E_LOG, E_LOCK, E_STATUS, E_ARGC };

/* The fds K holds, in the order of the FDS argument. */
#define KEEPER_FDS 6
static void keeper_fds(struct vps_keeper *k, int *fds[KEEPER_FDS])
{
        fds[0] = &k->handoff;
        fds[1] = &k->log;
        fds[2] = &k->listen;
        fds[3] = &k->sigfd;
        fds[4] = &k->sysinfo_listen;
        fds[5] = &k->hits.fd;
}

static void set_cloexec(int fd, bool on)
{
        if (fd >= 0)
                fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

/* exe, the global options of ctx, then args; returns only on failure. */
static void exec_with(const struct berth_ctx *ctx, const char *exe, const char *const *args, size_t n_args)
{
        const char *argv[8 + E_ARGC + K_ARGC];
        size_t n = 0;
        argv[n++] = exe;
        argv[n++] = "--root";
        argv[n++] = ctx->state_root ? ctx->state_root : "/run/berth";
        if (ctx->log.debug)
                argv[n++] = "--debug";
        if (ctx->cgroup_disabled) {
                argv[n++] = "--cgroup-manager";
                argv[n++] = "disabled";
        }
        for (size_t i = 0; i < n_args; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        execv(exe, (char *const *)argv);
}

void vps_keeper_exec(struct vps_keeper *k)
{
#ifdef BERTH_STATIC_KEEPER
        char exe[PATH_MAX], worker[16], fds_arg[8 * KEEPER_FDS], disk[64];
        /* The static berth hands --systemd-cgroup to berth-full. */
        if (k->ctx.systemd_cgroup || berth_self_sibling("berth", exe, sizeof(exe)) < 0)
                return;
        int *fds[KEEPER_FDS];
        keeper_fds(k, fds);
        snprintf(worker, sizeof(worker), "%d", (int)k->worker);
        snprintf(fds_arg, sizeof(fds_arg), "%d,%d,%d,%d,%d,%d", *fds[0], *fds[1], *fds[2], *fds[3], *fds[4],
                 *fds[5]);
        snprintf(disk, sizeof(disk), "%d,%u,%llu", (int)k->hits.backend, k->hits.project_id,
                 (unsigned long long)k->hits.dev);
        const char *args[K_ARGC] = {KEEPER_VERB, k->name, k->v.data_dir, worker, fds_arg, disk};
        for (size_t i = 0; i < KEEPER_FDS; i++)
                set_cloexec(*fds[i], false);
        exec_with(&k->ctx, exe, args, K_ARGC);
        int e = errno;
        for (size_t i = 0; i < KEEPER_FDS; i++)
                set_cloexec(*fds[i], true);
        vps_trace(&k->v, "VPS %s: the console keeper stays in berth-full: exec %s: %s", k->name, exe,
                  strerror(e));
#else
        (void)k; /* the berth next to berth-full is berth-full: a fresh one holds more than the fork */
#endif
}

/* n numbers separated by commas, each within [min, max]. */
static int parse_numbers(const char *s, long long *out, size_t n, long long min, long long max)
{
        for (size_t i = 0; i < n; i++) {
                char *end;
                errno = 0;
                out[i] = strtoll(s, &end, 10);
                if (errno || end == s || out[i] < min || out[i] > max || *end != (i + 1 < n ? ',' : '\0'))
                        return -1;
                s = end + 1;
        }
        return 0;
}

static int usage_error(const char *verb)
{
        fprintf(stderr, "berth: %s: an internal command of `berth vps start`, not for use by hand\n", verb);
        return 2;
}

/* k's name and paths, from NAME and DATA, with its log at fd log. */
static int keeper_resume_common(struct vps_keeper *k, const struct berth_ctx *ctx, const char *name,
                                const char *data_dir, int log)
{
        vps_keeper_init(k);
        if (!berth_vps_name_valid(name) || snprintf(k->name, sizeof(k->name), "%s", name) < 0)
                return -1;
        vps_keeper_bind(k, ctx, data_dir);
        struct stat st;
        if (berth_vps_path(&k->v, name, "console.log", k->log_path, sizeof(k->log_path)) < 0 ||
            berth_vps_path(&k->v, name, "console.handoff", k->handoff_path, sizeof(k->handoff_path)) < 0 ||
            fstat(log, &st) < 0)
                return -1;
        k->log = log;
        k->log_size = st.st_size;
        return 0;
}

int berth_vps_keeper_main(const struct berth_ctx *ctx, int argc, char **argv)
{
        /* In .bss: only the pages it uses cost the keeper memory. */
        static struct vps_keeper k;
        long long worker, fd[KEEPER_FDS], disk[3];
        if (argc != K_ARGC || parse_numbers(argv[K_WORKER], &worker, 1, 1, INT_MAX) < 0 ||
            parse_numbers(argv[K_FDS], fd, KEEPER_FDS, -EBADF, INT_MAX) < 0 ||
            parse_numbers(argv[K_DISK], disk, 3, 0, LLONG_MAX) < 0 || fd[1] < 0 ||
            keeper_resume_common(&k, ctx, argv[K_NAME], argv[K_DATA], (int)fd[1]) < 0)
                return usage_error(KEEPER_VERB);
        int *fds[KEEPER_FDS];
        keeper_fds(&k, fds);
        for (size_t i = 0; i < KEEPER_FDS; i++) {
                *fds[i] = (int)fd[i];
                set_cloexec(*fds[i], true); /* none may reach the next exec or a child */
        }
        vps_disk_hits_resume(&k.hits, &k.v, k.name, (int)fd[5], (enum berth_vps_disk_backend)disk[0],
                             (uint32_t)disk[1], (dev_t)disk[2]);
        k.worker = (pid_t)worker;
        k.pid = getpid();
        prctl(PR_SET_NAME, "berth-console");
        vps_keeper_serve(&k);
        prctl(PR_SET_CHILD_SUBREAPER, 0);
        signal(SIGPIPE, SIG_DFL); /* a restarted guest must not inherit ours */
        int status = 0, lock = vps_guest_exit_claim(&k.v, k.name, k.reaped, vps_keeper_n_reaped(&k), &status);
        if (lock < 0)
                return 0;
        char exe[PATH_MAX], log_arg[16], lock_arg[16], status_arg[16];
        snprintf(log_arg, sizeof(log_arg), "%d", k.log);
        snprintf(lock_arg, sizeof(lock_arg), "%d", lock);
        snprintf(status_arg, sizeof(status_arg), "%d", status);
        const char *args[E_ARGC] = {KEEPER_END_VERB, k.name, k.v.data_dir, log_arg, lock_arg, status_arg};
        int e = -berth_self_sibling("berth-full", exe, sizeof(exe));
        if (e == 0) {
                set_cloexec(k.log, false);
                set_cloexec(lock, false);
                exec_with(&k.ctx, exe, args, E_ARGC);
                e = errno;
        }
        vps_warn(&k.v,
                 "VPS %s: cannot run berth-full to clean up after the guest (%s); the next vps start, "
                 "stop or repair does",
                 k.name, strerror(e));
        return 1;
}

int vps_keeper_end_main(const struct berth_ctx *ctx, int argc, char **argv, vps_restart_fn restart)
{
        static struct vps_keeper k;
        long long fd[2], status;
        if (argc != E_ARGC || parse_numbers(argv[E_LOG], &fd[0], 1, 0, INT_MAX) < 0 ||
            parse_numbers(argv[E_LOCK], &fd[1], 1, 0, INT_MAX) < 0 ||
            parse_numbers(argv[E_STATUS], &status, 1, INT_MIN, INT_MAX) < 0 ||
            keeper_resume_common(&k, ctx, argv[E_NAME], argv[E_DATA], (int)fd[0]) < 0)
                return usage_error(KEEPER_END_VERB);
        /* Neither may reach what a restart starts (the lock above all). */
        set_cloexec((int)fd[0], true);
        set_cloexec((int)fd[1], true);
        vps_guest_exit_clean(&k.v, k.name, (int)status, restart);
        close((int)fd[1]);
        return 0;
}
