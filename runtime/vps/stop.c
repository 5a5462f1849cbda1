/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps stop: the guest's own shutdown first (its init's stop signal), then,
 * when the timeout runs out, every process is killed.
 *
 * Several VPS stop together: every init gets its signal first, then all of
 * them are waited for against one deadline, then whatever is left is
 * killed, so stopping N guests takes about as long as the slowest one, not
 * the sum. Waiting is a poll on the inits' pidfds: no sleep loop, and the
 * wait ends the moment the last init is gone.
 *
 * The signal reaches the init only once the init takes it: pid 1 of a pid
 * namespace gets no signal it has left at SIG_DFL unblocked, and a guest
 * init sets up its signals a while after its exec (systemd: about a
 * second), which is after `vps start` returned. A stop right after a start
 * lost its signal and waited for the timeout. So the signal is sent at
 * once, and when the init's /proc/<pid>/status did not show then that it
 * takes it -- a handler (SigCgt), or blocked to be read from a signalfd
 * (SigBlk: systemd) -- it is sent once more as soon as it does, checked
 * every SIGNAL_POLL_MS until the deadline. A block counts only when it is
 * seen twice in a row: a shell blocks every signal for the instant of a
 * fork, and a signal queued then is dropped once it unblocks it at
 * SIG_DFL (an init running a script lost its stop so, under load).
 * systemd's block is permanent. Why not only then: an init
 * waiting in sigtimedwait (busybox) shows the signal neither caught nor
 * blocked, yet gets it. Why not over and over: a second SIGTERM or SIGPWR
 * may start a second shutdown in some inits. An init that ignores the
 * signal (SIG_IGN) is killed at the timeout.
 *
 * Each VPS's lock is held from before the signal to after the cleanup.
 * Locks are taken in name order (a global order), so two stops of
 * overlapping sets cannot deadlock, and a name given twice is stopped once. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/proc.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* One VPS of a stop while it is under way. */
struct stop_job {
        struct berth_vps_stop_result *res;
        struct berth_vps_config cfg;
        bool has_cfg;
        int lock;
        int pidfd;      /* >= 0 while the init is waited for */
        bool exited;    /* the init went away within the timeout */
        pid_t pid;      /* the init's */
        int sig;        /* its stop signal; 0: none (--timeout 0) */
        bool delivered; /* sent while the init showed it takes it */
        bool blocked;   /* the last look saw the signal blocked (only) */
};

#define SIGNAL_POLL_MS 20

static int stop_signal(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg)
{
        if (cfg->stop_signal)
                return cfg->stop_signal;
        struct berth_vps_template t;
        struct berth_err terr = {0};
        int sig = SIGTERM;
        if (berth_vps_template_load(v, cfg->template_name, &t, &terr) == 0) {
                if (t.stop_signal)
                        sig = t.stop_signal;
                berth_vps_template_clear(&t);
        } else {
                vps_trace(v, "VPS %s: template unreadable (%s): stop signal SIGTERM", cfg->name, terr.msg);
        }
        return sig;
}

static void job_finish(struct stop_job *j, int r)
{
        j->res->r = r < 0 ? r : 0;
        if (r < 0)
                berth_err_wrap(&j->res->err, "stop VPS %s", j->res->name);
        if (j->pidfd >= 0)
                close(j->pidfd);
        if (j->lock >= 0)
                close(j->lock);
        if (j->has_cfg)
                berth_vps_config_clear(&j->cfg);
        j->pidfd = j->lock = -EBADF;
        j->has_cfg = false;
}

/* Kills and deletes the container now; 0 or -errno (never "wait"). */
static int cleanup_now(const struct berth_vps_ctx *v, struct stop_job *j)
{
        int r = vps_container_cleanup(v, &j->cfg, &j->res->err);
        return r < 0 ? r : 0;
}

enum takes { TAKES_NOT, TAKES_BLOCKED, TAKES_HANDLER };

/* Whether pid takes sig: it has a handler for it (SigCgt), or blocks it
 * (SigBlk: the kernel queues a blocked signal whatever the handler, for
 * sigwait or a signalfd, which is how systemd reads its signals). Pid 1
 * of a pid namespace gets nothing else. Unknown (no /proc): a handler,
 * the signal is sent anyway. */
static enum takes init_takes(pid_t pid, int sig)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        _cleanup_free_ char *buf = NULL;
        uint64_t cgt, blk;
        if (berth_read_file_at(AT_FDCWD, path, O_RDONLY, 1 << 16, &buf, NULL) < 0 ||
            berth_proc_status_sigmask(buf, "SigCgt", &cgt) < 0 ||
            berth_proc_status_sigmask(buf, "SigBlk", &blk) < 0)
                return TAKES_HANDLER;
        uint64_t bit = sig >= 1 && sig <= 64 ? 1ULL << (sig - 1) : 0;
        return (cgt & bit) ? TAKES_HANDLER : (blk & bit) ? TAKES_BLOCKED : TAKES_NOT;
}

/* Sends the job's stop signal (again) if the init shows now that it
 * takes it (a block: seen twice in a row); true once sent so. The pidfd
 * makes sure the status read was the init's: it is checked after the
 * read, before the send. */
static bool deliver(const struct berth_vps_ctx *v, struct stop_job *j)
{
        if (j->delivered || !j->sig)
                return j->delivered;
        enum takes t = init_takes(j->pid, j->sig);
        bool takes = t == TAKES_HANDLER || (t == TAKES_BLOCKED && j->blocked);
        j->blocked = t == TAKES_BLOCKED;
        struct pollfd p = {.fd = j->pidfd, .events = POLLIN};
        if (!takes || poll(&p, 1, 0) != 0)
                return false;
        j->delivered = syscall(SYS_pidfd_send_signal, j->pidfd, j->sig, NULL, 0) == 0;
        if (j->delivered)
                vps_trace(v, "VPS %s: the init %d takes signal %d: sent", j->cfg.name, (int)j->pid, j->sig);
        return j->delivered;
}

/* Running: opens the init's pidfd and sends the stop signal. Returns 1
 * when the job now waits for the init, else what the cleanup of an init
 * that is gone already returned. */
static int signal_running(const struct berth_vps_ctx *v, struct stop_job *j,
                          const struct berth_container_info *info, int timeout_s)
{
        j->pidfd = (int)syscall(SYS_pidfd_open, info->st.pid, 0);
        if (j->pidfd < 0 || !berth_state_init_alive(&info->st))
                return cleanup_now(v, j);
        char id[BERTH_VPS_ID_MAX];
        berth_vps_container_id(v, j->cfg.name, id, sizeof(id));
        struct berth_err rerr = {0};
        /* A frozen init cannot act on its signal. */
        if (info->status == BERTH_STATUS_PAUSED && berth_container_resume(v->ctx, id, &rerr) < 0)
                vps_warn(v,
                         "VPS %s: could not thaw it for its stop signal (it gets killed at the timeout): %s",
                         j->cfg.name, rerr.msg);
        /* --timeout 0: no signal, the deadline is now and the kill follows. */
        j->pid = info->st.pid;
        if (timeout_s > 0) {
                j->sig = stop_signal(v, &j->cfg);
                /* Blocked at first look: sent when the next look confirms it. */
                if (!deliver(v, j) && !j->blocked) {
                        syscall(SYS_pidfd_send_signal, j->pidfd, j->sig, NULL, 0);
                        vps_trace(v,
                                  "VPS %s: signal %d sent to the init %d, which does not show it takes it "
                                  "(yet): sent again once it does",
                                  j->cfg.name, j->sig, (int)j->pid);
                }
                vps_trace(v, "VPS %s: waiting up to %ds", j->cfg.name, timeout_s);
        } else {
                vps_trace(v, "VPS %s: --timeout 0: killing at once", j->cfg.name);
        }
        return 1;
}

/* Phase 1 of one VPS: lock it, look at its container, signal its init.
 * Returns 1 when the init is to be waited for, 0 when the job is done
 * (nothing was running), < 0 when it failed. */
static int job_begin(const struct berth_vps_ctx *v, struct stop_job *j, int timeout_s)
{
        struct berth_err *err = &j->res->err;
        const char *name = j->res->name;
        int r = berth_vps_config_load(v, name, &j->cfg, err);
        if (r < 0)
                return r;
        j->has_cfg = true;
        j->lock = vps_lock(v, name, err);
        if (j->lock < 0)
                return j->lock;
        struct berth_container_info info;
        r = vps_container_load(v, name, &info, err);
        if (r == -ENOENT) {
                struct berth_err net_err = {0};
                if (vps_net_down(v, &j->cfg, &net_err) < 0) /* leftovers of a crash */
                        vps_warn(v, "%s", net_err.msg);
                return berth_err_set(err, ESRCH, "VPS %s is not running", name);
        }
        if (r < 0)
                return r;
        vps_trace(v, "VPS %s: stop: container %s, init %d", name, berth_status_name(info.status),
                  (int)info.st.pid);
        if (info.status == BERTH_STATUS_RUNNING || info.status == BERTH_STATUS_PAUSED)
                r = signal_running(v, j, &info, timeout_s);
        else /* created, stopped, or half created: only leftovers */
                r = cleanup_now(v, j);
        berth_container_info_clear(&info);
        return r;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one stop_many call works with: arrays of n, allocated once. */
struct stop_run {
        const struct berth_vps_ctx *v;
        int timeout_s;
        size_t max_batch; /* VPS held open at once */
        struct stop_job **batch;
        struct stop_job **waiting;
        struct pollfd *p; /* p[i] watches waiting[i]; fd -1 once it exited */
};

/* Sends the signals the inits have started to take; true while one of
 * the inits still waited for has not got its own. */
static bool deliver_pending(struct stop_run *run, size_t n)
{
        bool pending = false;
        for (size_t i = 0; i < n; i++)
                if (run->p[i].fd >= 0 && !deliver(run->v, run->waiting[i]) && run->waiting[i]->sig)
                        pending = true;
        return pending;
}

/* Phase 2: polls the pidfds of the waiting jobs until every init is gone or
 * the deadline passes; marks the ones that went. */
static void wait_all(struct stop_run *run, size_t n, int64_t deadline)
{
        size_t left_jobs = n;
        for (size_t i = 0; i < n; i++)
                run->p[i] = (struct pollfd){.fd = run->waiting[i]->pidfd, .events = POLLIN};
        while (left_jobs > 0) {
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return;
                if (deliver_pending(run, n) && left > SIGNAL_POLL_MS)
                        left = SIGNAL_POLL_MS;
                int got = poll(run->p, n, left > INT32_MAX ? INT32_MAX : (int)left);
                if (got < 0 && errno != EINTR)
                        return; /* cannot wait: the stragglers are killed */
                for (size_t i = 0; got > 0 && i < n; i++)
                        if (run->p[i].fd >= 0 && run->p[i].revents) {
                                run->waiting[i]->exited = true;
                                run->p[i].fd = -1;
                                left_jobs--;
                        }
        }
}

/* Phase 3, the cleanup of the waited-for jobs: a killed VPS's costs ~40
 * ms at 3000 VPS on the host, most of it waiting (its processes' death,
 * the kernel unmaking its links and cgroups), so several go at once
 * (vps_parallel). Cleanup tolerates a half-done earlier try. */
static int cleanup_one(size_t i, void *arg, struct berth_err *err)
{
        struct stop_run *run = arg;
        return vps_container_cleanup(run->v, &run->waiting[i]->cfg, err);
}

static void cleanup_done(size_t i, int r, struct berth_err *err, void *arg)
{
        struct stop_run *run = arg;
        struct stop_job *j = run->waiting[i];
        if (r < 0)
                j->res->err = *err;
        job_finish(j, r);
}

/* One VPS is done here, as always; from 16 on, a worker per 16 VPS up to 4
 * (two per CPU of a 2-core host: the work is mostly waiting). */
static unsigned cleanup_workers(size_t n)
{
        return n < 16 ? 1 : n / 16 < 4 ? (unsigned)(n / 16) : 4;
}

/* Phases 1 to 3 for batch[0..n), which is in lock order. */
static void stop_batch(struct stop_run *run, size_t n)
{
        size_t n_waiting = 0;
        for (size_t i = 0; i < n; i++) {
                struct stop_job *j = run->batch[i];
                int r = job_begin(run->v, j, run->timeout_s);
                if (r > 0)
                        run->waiting[n_waiting++] = j;
                else
                        job_finish(j, r);
        }
        wait_all(run, n_waiting, now_ms() + (int64_t)run->timeout_s * 1000);
        for (size_t i = 0; i < n_waiting; i++) {
                struct stop_job *j = run->waiting[i];
                j->res->forced = !j->exited;
                vps_trace(run->v, "VPS %s: %s", j->res->name,
                          j->exited ? "the init exited on its signal"
                                    : "still running at the timeout: killed");
        }
        vps_parallel(n_waiting, cleanup_workers(n_waiting), cleanup_one, cleanup_done, run);
}

static int cmp_job_name(const void *a, const void *b)
{
        const struct stop_job *x = *(struct stop_job *const *)a, *y = *(struct stop_job *const *)b;
        return strcmp(x->res->name, y->res->name);
}

/* How many VPS one batch may hold open (a lock and a pidfd each). Every
 * batch waits for its slowest guest, so fewer, larger batches stop
 * thousands of VPS sooner: the soft descriptor limit is raised toward
 * what n VPS need, up to the hard limit (no privilege needed; Debian's
 * soft limit is 1024, which made batches of 480). */
static size_t batch_size(size_t n)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return 16;
        rlim_t need = (rlim_t)n * 2 + 64;
        if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
                struct rlimit up = {.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max,
                                    .rlim_max = rl.rlim_max};
                if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                        rl = up;
        }
        return rl.rlim_cur > 96 ? (size_t)(rl.rlim_cur - 64) / 2 : 16;
}

/* order[0..n) is sorted by name; a name given twice is stopped once and
 * its later copies get the outcome of the first. */
static size_t run_batches(struct stop_run *run, struct stop_job **order, size_t n)
{
        size_t max = run->max_batch, failed = 0;
        for (size_t i = 0; i < n;) {
                size_t k = 0;
                for (; i < n && k < max; i++)
                        if (i == 0 || strcmp(order[i]->res->name, order[i - 1]->res->name) != 0)
                                run->batch[k++] = order[i];
                stop_batch(run, k);
        }
        for (size_t i = 1; i < n; i++)
                if (strcmp(order[i]->res->name, order[i - 1]->res->name) == 0) {
                        struct berth_vps_stop_result *src = order[i - 1]->res, *dst = order[i]->res;
                        dst->r = src->r;
                        dst->forced = src->forced;
                        dst->err = src->err;
                }
        for (size_t i = 0; i < n; i++)
                failed += order[i]->res->r < 0;
        return failed;
}

size_t berth_vps_stop_many(const struct berth_vps_ctx *v, struct berth_vps_stop_result *res, size_t n,
                           int timeout_s)
{
        size_t m = n ? n : 1;
        _cleanup_free_ struct stop_job *jobs = calloc(m, sizeof(*jobs));
        _cleanup_free_ struct stop_job **order = calloc(m, sizeof(*order));
        _cleanup_free_ struct stop_job **batch = calloc(m, sizeof(*batch));
        _cleanup_free_ struct stop_job **waiting = calloc(m, sizeof(*waiting));
        _cleanup_free_ struct pollfd *p = calloc(m, sizeof(*p));
        bool oom = !jobs || !order || !batch || !waiting || !p;
        for (size_t i = 0; i < n; i++) {
                res[i].forced = false;
                berth_err_clear(&res[i].err);
                res[i].r =
                    oom ? berth_err_set(&res[i].err, ENOMEM, "stop VPS %s: out of memory", res[i].name) : 0;
                if (!oom) {
                        jobs[i] = (struct stop_job){.res = &res[i], .lock = -EBADF, .pidfd = -EBADF};
                        order[i] = &jobs[i];
                }
        }
        if (oom)
                return n;
        qsort(order, n, sizeof(*order), cmp_job_name);
        struct stop_run run = {.v = v,
                               .timeout_s = timeout_s < 0 ? 0 : timeout_s,
                               .max_batch = batch_size(n),
                               .batch = batch,
                               .waiting = waiting,
                               .p = p};
        vps_trace(v, "stop: %zu VPS, timeout %ds, at most %zu at a time", n, run.timeout_s, run.max_batch);
        return run_batches(&run, order, n);
}

int berth_vps_stop(const struct berth_vps_ctx *v, const char *name, int timeout_s, bool *forced,
                   struct berth_err *err)
{
        struct berth_vps_stop_result res = {.name = name};
        berth_vps_stop_many(v, &res, 1, timeout_s);
        if (forced)
                *forced = res.forced;
        if (res.r < 0 && err)
                *err = res.err;
        return res.r;
}
