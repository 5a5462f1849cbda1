/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container lifecycle: the OCI verbs as library calls. cli/ parses flags and
 * prints; everything a verb does happens here. */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/log.h"
#include "berth/state.h"

struct berth_systemd_driver; /* berth/systemd.h */

struct berth_ctx {
        const char *state_root; /* --root */
        bool systemd_cgroup;    /* --systemd-cgroup: new containers get a systemd scope */
        /* The D-Bus side of the systemd driver, or NULL where it is not
         * linked (the static berth runs berth-full for --systemd-cgroup). */
        const struct berth_systemd_driver *systemd;
        bool cgroup_disabled; /* --cgroup-manager disabled */
        struct berth_log log; /* warnings and the --debug trace */
};

/* A warning or a trace line through the context's log (berth/log.h). */
#define berth_warn(ctx, ...) berth_log_warn((ctx) ? &(ctx)->log : NULL, __VA_ARGS__)
#define berth_trace(ctx, ...)                                                                                \
        do {                                                                                                 \
                const struct berth_ctx *berth_trace_ctx_ = (ctx);                                            \
                if (berth_trace_ctx_)                                                                        \
                        berth_debug(&berth_trace_ctx_->log, __VA_ARGS__);                                    \
        } while (0)

struct berth_create_opts {
        const char *id;
        const char *bundle;         /* NULL: the current directory */
        const char *pid_file;       /* NULL: none */
        const char *console_socket; /* NULL: none */
        bool no_pivot;
        bool no_new_keyring;
        unsigned preserve_fds;
        bool detach; /* run only */
        bool keep;   /* run only: leave the stopped container for `delete` */
        /* Give the container these as fds 0-2 instead of the caller's own
         * (the VPS console log); only when set_stdio. */
        bool set_stdio;
        int stdio[3];
};

int berth_container_create(const struct berth_ctx *ctx, const struct berth_create_opts *o,
                           struct berth_err *err);

/* create + start; unless detached, waits and stores the container's exit
 * code (128+signal for a signal) in *exit_code, then deletes it (unless
 * keep). */
int berth_container_run(const struct berth_ctx *ctx, const struct berth_create_opts *o, int *exit_code,
                        struct berth_err *err);

int berth_container_start(const struct berth_ctx *ctx, const char *id, struct berth_err *err);

int berth_container_kill(const struct berth_ctx *ctx, const char *id, int sig, bool all,
                         struct berth_err *err);

int berth_container_delete(const struct berth_ctx *ctx, const char *id, bool force, struct berth_err *err);

/* A container's state as the OCI state JSON (pretty-printed, runc's fields). */
int berth_container_state_json(const struct berth_ctx *ctx, const char *id, char **json,
                               struct berth_err *err);

struct berth_container_info {
        struct berth_state st;
        enum berth_status status;
        /* Why the status is BERTH_STATUS_UNKNOWN ("" otherwise). */
        char damage[256];
};

/* Loads the state and derives the live status (locks nothing). */
int berth_container_load(const struct berth_ctx *ctx, const char *id, struct berth_container_info *info,
                         struct berth_err *err);
void berth_container_info_clear(struct berth_container_info *info);

/* Parses a signal given as "KILL", "SIGKILL" or "9"; -EINVAL when unknown. */
int berth_signal_parse(const char *s);

/* ---- exec ---------------------------------------------------------------- */

struct berth_exec_opts {
        const char *id;
        const char *process_file; /* --process: an OCI process JSON; else the fields below */
        char **args;              /* NULL-terminated */
        char **env;               /* --env KEY=VALUE additions, NULL-terminated or NULL */
        const char *cwd;
        bool has_user;
        uid_t uid;
        gid_t gid;
        bool has_gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char **caps; /* --cap additions, NULL-terminated or NULL */
        bool tty;
        bool no_new_privs;
        const char *console_socket;
        const char *pid_file;
        /* --cgroup, repeatable: "PATH" (a sub-cgroup of the container's, in
         * every hierarchy) or, on cgroup v1, "CONTROLLER[,...]:PATH". */
        char **cgroups;
        size_t n_cgroups;
        unsigned preserve_fds;
        bool detach;
        bool ignore_paused; /* exec into a paused container: runs once resumed */
};

/* Runs a new process inside a running container. In the foreground it
 * waits and stores the process's exit code (128+signal when killed). */
int berth_container_exec(const struct berth_ctx *ctx, const struct berth_exec_opts *o, int *exit_code,
                         struct berth_err *err);

/* ---- cgroup-backed verbs -------------------------------------------------- */

struct berth_resources;
struct berth_cgroup_stats;

int berth_container_pause(const struct berth_ctx *ctx, const char *id, struct berth_err *err);
int berth_container_resume(const struct berth_ctx *ctx, const char *id, struct berth_err *err);
int berth_container_update(const struct berth_ctx *ctx, const char *id, const struct berth_resources *r,
                           struct berth_err *err);
/* The container's processes (host pids), malloc'd. */
int berth_container_pids(const struct berth_ctx *ctx, const char *id, pid_t **pids, size_t *n,
                         struct berth_err *err);
int berth_container_stats(const struct berth_ctx *ctx, const char *id, struct berth_cgroup_stats *st,
                          struct berth_err *err);
#endif
