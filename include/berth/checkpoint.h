/* SPDX-License-Identifier: GPL-2.0-or-later */
/* checkpoint / restore through the criu program (fork + exec of its
 * command line, the way runc drives criu over RPC).
 *
 * checkpoint dumps a running container into an image directory (and then
 * removes it, unless leave_running or pre_dump); restore recreates the
 * container's state directory and cgroup, has criu rebuild the processes
 * inside that cgroup, and records the restored init, so state/kill/delete
 * work as for a created one. A terminal is external to the dump (its
 * master lives with whoever took it from --console-socket); restore gives
 * the processes a new one and sends its master to --console-socket. Hosts
 * whose `criu check` fails are refused with a message that says so. */
#ifndef BERTH_CHECKPOINT_H
#define BERTH_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/container.h"
#include "berth/err.h"

struct berth_checkpoint_opts {
        const char *id;
        const char *criu;                /* the criu program; NULL: "criu" from PATH */
        const char *image_path;          /* required; created when missing */
        const char *work_path;           /* logs and pid file; NULL: image_path */
        const char *parent_path;         /* --prev-images-dir, relative to image_path */
        const char *manage_cgroups_mode; /* soft|full|strict|ignore, NULL: criu's default */
        bool leave_running, tcp_established, ext_unix_sk, shell_job, file_locks, pre_dump;
        /* criu ends the processes, but the container (stopped) stays for
         * the caller to delete: a VPS removes it with its own cgroups. */
        bool keep_stopped;
};

int berth_container_checkpoint(const struct berth_ctx *ctx, const struct berth_checkpoint_opts *o,
                               struct berth_err *err);

struct berth_restore_opts {
        /* id, criu, image_path, work_path, manage_cgroups_mode (default
         * "ignore": the processes stay in the new cgroup criu runs in),
         * tcp_established, ext_unix_sk, shell_job, file_locks. */
        struct berth_checkpoint_opts c;
        const char *bundle;         /* NULL: the current directory */
        const char *pid_file;       /* NULL: none */
        const char *console_socket; /* a terminal's new master goes there */
        bool detach;
};

/* Unless detached, waits for the restored init like `run` and stores its
 * exit code (128+signal), then deletes the container. */
int berth_container_restore(const struct berth_ctx *ctx, const struct berth_restore_opts *o, int *exit_code,
                            struct berth_err *err);

/* Resolves `criu` (NULL: "criu") through PATH into out. */
bool berth_criu_find(const char *criu, char *out, size_t out_len);

/* Runs `criu check`; on failure err says "criu check failed on this
 * kernel: " followed by criu's error lines. */
int berth_criu_check(const char *criu_path, struct berth_err *err);

#endif
