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

/* SIGKILLs every process in dfd and its sub-cgroups; returns how many. */
static int kill_tree(int dfd, int depth)
{
        int n = 0;
        _cleanup_free_ pid_t *pids = NULL;
        size_t np = 0;
        if (cg_exists(dfd, "freezer.state"))
                cg_write(dfd, "freezer.state", "THAWED", "thaw", NULL);
        if (cg_read_pids(dfd, &pids, &np, NULL) >= 0)
                for (size_t i = 0; i < np; i++)
                        if (kill(pids[i], SIGKILL) == 0)
                                n++;
        int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (!d) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return n;
        }
        struct dirent *e;
        while (depth < 32 && (e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                _cleanup_close_ int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub >= 0)
                        n += kill_tree(sub, depth + 1);
        }
        return n;
}

/* Removes dfd's sub-cgroups, deepest first (they are empty by now). */
static void remove_tree(int dfd, int depth)
{
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
                        remove_tree(sub, depth + 1);
                unlinkat(dfd, e->d_name, AT_REMOVEDIR);
        }
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A killed process leaves cgroup.procs once it is reaped: poll until
 * every hierarchy is empty. */
static int kill_all_hiers(struct berth_cgroup *cg, int *n_killed, struct berth_err *err)
{
        int64_t deadline = now_ms() + SALVAGE_TIMEOUT_MS;
        int first = -1;
        for (;;) {
                int n = 0;
                bool any = false;
                for (size_t i = 0; i < cg->n; i++) {
                        _cleanup_close_ int fd = open(cg->h[i].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        _cleanup_free_ pid_t *pids = NULL;
                        size_t np = 0;
                        n += kill_tree(fd, 0);
                        if (cg_read_pids(fd, &pids, &np, NULL) >= 0 && np)
                                any = true;
                }
                if (first < 0)
                        first = n;
                if (n == 0 && !any)
                        break;
                if (now_ms() > deadline)
                        return berth_err_set(err, ETIMEDOUT, "cgroup %s: processes still running",
                                             berth_cgroup_path(cg));
                poll(NULL, 0, 5);
        }
        *n_killed = first;
        return 0;
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
                remove_tree(fd, 0);
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
