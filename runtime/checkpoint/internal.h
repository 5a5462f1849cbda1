/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of checkpoint and restore: running criu and building its
 * command line. */
#ifndef BERTH_RUNTIME_CHECKPOINT_INTERNAL_H
#define BERTH_RUNTIME_CHECKPOINT_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "berth/cgroup.h"
#include "berth/checkpoint.h"
#include "berth/spec.h"

#define CRIU_DESCRIPTORS "descriptors.json"
/* The external mount key of a terminal's /dev/console. */
#define CRIU_CONSOLE_KEY "berth-console"
/* The external mount key of a cgroup2 mount in a new user namespace. */
#define CRIU_CGROUP_KEY "berth-cgroup"

/* A growing argv; on allocation failure `oom` is set and adds are no-ops. */
struct criu_argv {
        char **v;
        size_t n, cap;
        bool oom;
};

void criu_argv_add(struct criu_argv *a, const char *arg);
void criu_argv_addf(struct criu_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void criu_argv_free(struct criu_argv *a);

/* The flags checkpoint and restore share: -D, -W, -o LOG, -v4 and the
 * boolean options. */
void criu_add_common(struct criu_argv *a, const struct berth_checkpoint_opts *o, const char *work,
                     const char *log);

/* How the criu child is set up before exec. */
struct criu_run {
        const char *root_bind; /* restore: bind this rootfs onto root_mnt in a private mount ns */
        const char *root_mnt;
        struct berth_cgroup *cg; /* restore: join this cgroup first */
        int keep_fds[8];         /* fds to pass on (cleared O_CLOEXEC), -1 terminated */
        /* restore --systemd-cgroup: called with the criu child's pid while
         * the child waits before anything else; criu runs only once it
         * returns >= 0 (the child then sits in the container's scope, cg
         * is not joined by the child). */
        int (*place)(void *arg, pid_t pid, struct berth_err *err);
        void *place_arg;
};

/* fork + exec criu; waits for it. On failure err quotes the last error
 * lines of work/log. */
int criu_run(const char *criu, const struct criu_argv *a, const struct criu_run *run, const char *work,
             const char *log, const char *what, struct berth_err *err);

/* The external-mount and namespace keys criu must be told about, for a
 * dump (key = val = mountpoint) or a restore (val = host source;
 * cgroup_dir: the restored container's cgroup directory). */
int criu_add_externals(struct criu_argv *a, const struct berth_spec *spec, const char *bundle, pid_t pid,
                       const char *cgroup_dir, bool restore, struct berth_err *err);

/* Picks the criu program and checks the kernel with `criu check`. */
int criu_prepare(const char *criu_opt, char *criu, size_t len, const char *verb, struct berth_err *err);

#endif
