/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading a container's state and deriving its live status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/container.h"
#include "runtime/container.h"

static bool cgroup_frozen(const char *dump)
{
        if (!dump)
                return false;
        struct berth_err err = {0};
        struct berth_cgroup *cg = berth_cgroup_restore(dump, &err);
        bool frozen = false;
        if (cg && berth_cgroup_is_frozen(cg, &frozen, &err) < 0)
                frozen = false;
        berth_cgroup_free(cg);
        return frozen;
}

/* Whether the init still waits for start: until it has the go it holds
 * exec.fifo (an O_PATH fd); execve closes it. A fifo left behind by a
 * start killed after it gave the go is no proof of "created". */
static bool init_holds_fifo(int state_fd, pid_t pid)
{
        struct stat fifo, sb;
        if (fstatat(state_fd, "exec.fifo", &fifo, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return true; /* cannot tell: trust the fifo */
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &sb, 0) == 0 &&
                    sb.st_dev == fifo.st_dev && sb.st_ino == fifo.st_ino)
                        return true;
        return false;
}

static enum berth_status derive_status(int state_fd, const struct berth_state *st)
{
        if (!berth_state_init_alive(st))
                return BERTH_STATUS_STOPPED;
        if (init_holds_fifo(state_fd, st->pid))
                return BERTH_STATUS_CREATED;
        return cgroup_frozen(st->cgroup) ? BERTH_STATUS_PAUSED : BERTH_STATUS_RUNNING;
}

static int open_root(const struct berth_ctx *ctx, const char *id, struct berth_err *err)
{
        int fd = open(ctx->state_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return berth_err_set(err, ENOENT, "container does not exist: %s", id);
        return fd >= 0 ? fd : berth_err_sys(err, errno, "open state root %s", ctx->state_root);
}

/* A directory whose state.json is missing or unreadable: still being
 * created (its creator holds the lock), or left by a crash. locked: the
 * caller holds the lock already. */
static int load_damaged(int state_fd, const char *id, bool locked, const struct berth_err *why,
                        struct berth_container_info *info)
{
        info->st.id = strdup(id);
        if (!info->st.id)
                return -ENOMEM;
        if (why->code == ENOENT && !locked) {
                _cleanup_close_ int lock = -EBADF;
                int r = berth_state_trylock(state_fd, &lock);
                if (r == 0) {
                        info->status = BERTH_STATUS_CREATING;
                        return 0;
                }
        }
        info->status = BERTH_STATUS_UNKNOWN;
        if (why->code == ENOENT)
                snprintf(info->damage, sizeof(info->damage),
                         "no state.json and no create running: its create or delete was interrupted");
        else
                snprintf(info->damage, sizeof(info->damage), "state.json is damaged (%s)", why->msg);
        return 0;
}

static int load_at(int state_fd, const char *id, bool locked, struct berth_container_info *info,
                   struct berth_err *err)
{
        memset(info, 0, sizeof(*info));
        struct berth_err why = {0};
        int r = berth_state_read(state_fd, &info->st, &why);
        if (r == -ENOENT || r == -EINVAL) {
                r = load_damaged(state_fd, id, locked, &why, info);
                return r < 0 ? berth_err_sys(err, -r, "container %s", id) : 0;
        }
        if (r < 0) {
                *err = why;
                return berth_err_wrap(err, "container %s", id);
        }
        info->status = derive_status(state_fd, &info->st);
        return 0;
}

int berth_container_load(const struct berth_ctx *ctx, const char *id, struct berth_container_info *info,
                         struct berth_err *err)
{
        memset(info, 0, sizeof(*info));
        _cleanup_close_ int root_fd = open_root(ctx, id, err);
        if (root_fd < 0)
                return root_fd;
        _cleanup_close_ int state_fd = berth_state_dir_open(root_fd, id, err);
        if (state_fd < 0)
                return state_fd;
        return load_at(state_fd, id, false, info, err);
}

int container_open_locked(const struct berth_ctx *ctx, const char *id, struct container_locked *c,
                          struct berth_err *err)
{
        memset(&c->info, 0, sizeof(c->info));
        c->root_fd = c->state_fd = c->lock_fd = -EBADF;
        int r = c->root_fd = open_root(ctx, id, err);
        if (r >= 0)
                r = c->state_fd = berth_state_dir_open(c->root_fd, id, err);
        if (r >= 0)
                r = c->lock_fd = berth_state_lock(c->state_fd, err);
        if (r >= 0)
                r = load_at(c->state_fd, id, true, &c->info, err);
        if (r < 0)
                container_close_locked(c);
        return r;
}

void container_close_locked(struct container_locked *c)
{
        berth_closep(&c->lock_fd);
        berth_closep(&c->state_fd);
        berth_closep(&c->root_fd);
        berth_container_info_clear(&c->info);
}

int container_damaged_err(const struct berth_container_info *info, const char *verb, struct berth_err *err)
{
        return berth_err_set(err, EUCLEAN, "cannot %s container %s: %s; `berth delete --force %s` removes it",
                             verb, info->st.id, info->damage, info->st.id);
}

void berth_container_info_clear(struct berth_container_info *info)
{
        berth_state_clear(&info->st);
}

int berth_container_state_json(const struct berth_ctx *ctx, const char *id, char **json,
                               struct berth_err *err)
{
        struct berth_container_info info;
        int r = berth_container_load(ctx, id, &info, err);
        if (r < 0)
                return r;
        if (info.status == BERTH_STATUS_UNKNOWN)
                berth_warn(ctx, "container %s: %s; `berth delete --force %s` removes it", id, info.damage,
                           id);
        *json = berth_oci_state_format(&info.st, info.status, true, true);
        berth_container_info_clear(&info);
        return *json ? 0 : berth_err_set(err, ENOMEM, "format state");
}
