/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Everything `create`/`run` holds while it brings a container up, so that
 * one abort function can undo whatever was done (no half containers). */
#ifndef BERTH_RUNTIME_CREATE_JOB_H
#define BERTH_RUNTIME_CREATE_JOB_H

#include "berth/cgroup.h"
#include "berth/seccomp.h"
#include "berth/state.h"
#include "berth/systemd.h"
#include "berth/tty.h"
#include "runtime/container.h"
#include "runtime/verbs/stdio_guard.h"

struct create_job {
        struct container_setup setup;
        struct berth_spec *spec;
        char *config_text;
        size_t config_len;
        int root_fd;  /* state root */
        int state_fd; /* <root>/<id>, once created */
        int lock_fd;  /* its lock, held until state.json is written */
        struct berth_cgroup *cgroup;
        int sync_parent;    /* parent's end */
        pid_t pid;          /* the init (host pid) */
        pid_t intermediate; /* two-stage: the bare clone, reaped after it reports */
        int pidfd;
        bool run_mode;
        struct berth_state st;
        struct berth_seccomp_filter *seccomp_filter; /* setup.seccomp_filter's owner */
        struct stdio_guard guard;                    /* the caller's terminal, kept out */
        struct berth_tty_proxy *proxy;               /* foreground run with process.terminal */
        /* --systemd-cgroup: the container's unit, started once the init
         * exists (a scope needs a pid); unit_started: ours to stop. */
        bool systemd;
        bool unit_started;
        struct berth_systemd_unit unit;
};

/* Loads the bundle and validates what berth needs beyond the parser. */
int job_load_bundle(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err);
/* State dir, cgroup, namespaces, fifo, console: everything before clone. */
int job_prepare(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err);
/* Fails ("container's cgroup unexpectedly frozen") when the cgroup is frozen. */
int job_check_not_frozen(struct create_job *j, struct berth_err *err);
void job_warn_not_empty(struct create_job *j);
/* --systemd-cgroup, right after the clone: systemd starts the unit with
 * the init in it, then the limits go to its cgroup files and the init
 * joins the v1 hierarchies systemd does not manage. */
int job_start_unit(struct create_job *j, struct berth_err *err);
/* Clone and drive the init until it is ready for start. */
int job_spawn(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err);
/* What only the state needs (the owner's name, the config copy), done by
 * job_spawn while the init sets itself up. */
int job_record(struct create_job *j, struct berth_err *err);
/* Undoes everything (kills the init, removes cgroup and state). */
void job_abort(struct create_job *j);
/* Releases memory and fds (the container stays). */
void job_release(struct create_job *j);

#endif
