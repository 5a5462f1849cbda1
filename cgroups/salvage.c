/* SPDX-License-Identifier: GPL-2.0-or-later */
/* delete --force of a container whose state is lost or damaged: the cgroup
 * record is the ground truth. Unlike berth_cgroup_destroy, nothing is
 * assumed about which hierarchies the init had joined when its creator
 * died (it may sit in the unified one only): every hierarchy is emptied,
 * sub-cgroups included, before anything is removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

#define SALVAGE_TIMEOUT_MS 10000

struct pidset {
        pid_t *v;
        size_t n, cap;
};

static void pidset_add(struct pidset *s, pid_t pid)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] == pid)
                        return;
        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 64;
                pid_t *v = realloc(s->v, cap * sizeof(*v));
                if (!v)
                        return;
                s->v = v;
                s->cap = cap;
        }
        s->v[s->n++] = pid;
}

/* One cgroup's processes into the set, and those of its sub-cgroups (at
 * most 32 deep), thawing a v1 freezer on the way (frozen tasks cannot act
 * on SIGKILL). */
static void collect_tree(int dfd, int depth, struct pidset *set)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t np = 0;
        if (cg_exists(dfd, "freezer.state"))
                cg_write(dfd, "freezer.state", "THAWED", "thaw", NULL);
        if (cg_read_pids(dfd, &pids, &np, NULL) >= 0)
                for (size_t i = 0; i < np; i++)
                        pidset_add(set, pids[i]);
        int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return;
        }
        struct dirent *e;
        while (depth < 32 && (e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                _cleanup_close_ int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub >= 0)
                        collect_tree(sub, depth + 1, set);
        }
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A killed process leaves cgroup.procs once it is reaped: kill what every
 * hierarchy lists (a process is counted once however many list it) until
 * none lists anything. */
static int kill_all_hiers(struct berth_cgroup *cg, int *n_killed, struct berth_err *err)
{
        int64_t deadline = now_ms() + SALVAGE_TIMEOUT_MS;
        *n_killed = -1;
        for (;;) {
                struct pidset set = {0};
                for (size_t i = 0; i < cg->n; i++) {
                        _cleanup_close_ int fd = open(cg->h[i].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd >= 0)
                                collect_tree(fd, 0, &set);
                }
                int alive = 0;
                for (size_t i = 0; i < set.n; i++)
                        alive += kill(set.v[i], SIGKILL) == 0;
                size_t listed = set.n;
                free(set.v);
                if (*n_killed < 0)
                        *n_killed = alive;
                if (listed == 0)
                        return 0;
                if (now_ms() > deadline)
                        return berth_err_set(err, ETIMEDOUT, "cgroup %s: processes still running",
                                             berth_cgroup_path(cg));
                poll(NULL, 0, 5);
        }
}

/* The levels of h that exist already (the leaf counts as new: create
 * makes it or fails). One access() when the parent exists. */
static int existing_levels(const struct cg_hier *h)
{
        _cleanup_free_ char *d = strdup(h->dir);
        int l = cg_count_levels(h);
        for (l--; d && l > 0; l--) {
                char *slash = strrchr(d, '/');
                if (!slash || (size_t)(slash - d) < h->mount_len)
                        break;
                *slash = '\0';
                if (access(d, F_OK) == 0)
                        break;
        }
        return l > 0 ? l : 0;
}

char *berth_cgroup_dump_before_create(struct berth_cgroup *cg)
{
        /* Only the dump carries the guess: create() finds the truth. */
        for (size_t i = 0; i < cg->n; i++)
                cg->h[i].n_existing = existing_levels(&cg->h[i]);
        char *dump = berth_cgroup_dump(cg);
        for (size_t i = 0; i < cg->n; i++)
                cg->h[i].n_existing = -1;
        return dump;
}

int berth_cgroup_probe(struct berth_cgroup *cg, int *n_dirs, int *n_procs)
{
        struct pidset set = {0};
        *n_dirs = 0;
        for (size_t i = 0; i < cg->n; i++) {
                _cleanup_close_ int fd = open(cg->h[i].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                (*n_dirs)++;
                collect_tree(fd, 0, &set);
        }
        *n_procs = (int)set.n;
        free(set.v);
        return 0;
}

const char *berth_cgroup_dir(const struct berth_cgroup *cg)
{
        const struct cg_hier *h = cg_unified(cg);
        if (!h)
                h = cg_primary(cg);
        return h ? h->dir : NULL;
}

int berth_cgroup_salvage(struct berth_cgroup *cg, int *n_killed, int *n_removed, struct berth_err *err)
{
        *n_removed = 0;
        int r = kill_all_hiers(cg, n_killed, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cg->n; i++) {
                struct cg_hier *h = &cg->h[i];
                _cleanup_close_ int fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if ((r = cg_remove_children(fd, h->dir, 0, err)) < 0)
                        return r;
                /* Levels known to be ours (a full record) go as in destroy;
                 * an early record only knows the leaf is ours. */
                if (h->n_existing >= 0) {
                        r = cg_remove_levels(h, err);
                } else if (rmdir(h->dir) < 0 && errno != ENOENT) {
                        r = berth_err_sys(err, errno, "cgroup: rmdir %s", h->dir);
                }
                if (r < 0)
                        return r;
                (*n_removed)++;
        }
        return 0;
}
