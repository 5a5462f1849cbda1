// SPDX-License-Identifier: GPL-2.0-or-later
/* Work on many VPS at once (vps_parallel): what one VPS's cleanup costs is
 * mostly waiting -- for its processes to die after SIGKILL, for the kernel
 * to unmake its links and cgroups (RCU grace periods) -- so a stop of
 * thousands goes several at a time. berth is single-threaded and its VPS
 * code is written for other berth processes working beside it (each VPS
 * has its lock, the shared state its own locks or the kernel's), so the
 * workers are forked processes: each takes the next item from a counter
 * in shared memory and leaves the outcome in its slot there. The caller
 * holds every lock it needs; the workers inherit them. An item no worker
 * finished (a fork that failed, a worker that died) is done by the
 * caller afterwards: the work must be safe to repeat. */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/vps/internal.h"

#define MAX_WORKERS 8

struct slot {
        int r;
        int done;
        struct berth_err err;
};

struct shared {
        size_t next; /* the next item to take */
        struct slot slot[];
};

static void work(struct shared *sh, size_t n, vps_par_fn fn, void *arg)
{
        for (;;) {
                size_t i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED);
                if (i >= n)
                        return;
                sh->slot[i].r = fn(i, arg, &sh->slot[i].err);
                __atomic_store_n(&sh->slot[i].done, 1, __ATOMIC_RELEASE);
        }
}

static void run_here(size_t n, vps_par_fn fn, vps_par_done done, void *arg)
{
        for (size_t i = 0; i < n; i++) {
                struct berth_err err = {0};
                done(i, fn(i, arg, &err), &err, arg);
        }
}

void vps_parallel(size_t n, unsigned workers, vps_par_fn fn, vps_par_done done, void *arg)
{
        if (workers > MAX_WORKERS)
                workers = MAX_WORKERS;
        size_t size = sizeof(struct shared) + n * sizeof(struct slot);
        struct shared *sh = workers > 1 && n > 1
                                ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
                                : MAP_FAILED;
        if (sh == MAP_FAILED) {
                run_here(n, fn, done, arg);
                return;
        }
        fflush(NULL); /* nothing buffered is written twice */
        pid_t pid[MAX_WORKERS];
        unsigned started = 0;
        for (; started < workers && started < n; started++) {
                pid[started] = fork();
                if (pid[started] < 0)
                        break;
                if (pid[started] == 0) {
                        work(sh, n, fn, arg);
                        _exit(0);
                }
        }
        for (unsigned w = 0; w < started; w++)
                while (waitpid(pid[w], NULL, 0) < 0 && errno == EINTR)
                        ;
        for (size_t i = 0; i < n; i++) {
                struct slot *s = &sh->slot[i];
                if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
                        s->err = (struct berth_err){0};
                        s->r = fn(i, arg, &s->err);
                }
                done(i, s->r, &s->err, arg);
        }
        munmap(sh, size);
}
