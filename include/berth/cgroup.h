/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container cgroups on cgroup v2 (unified), hybrid and legacy v1 hosts.
 *
 * One object per container. berth_cgroup_new() only resolves where the
 * container's cgroup lives in every hierarchy (nothing touched yet);
 * berth_cgroup_create() makes the missing levels and applies
 * linux.resources, undoing everything on failure.
 *
 * Placement of the init (done by the container code):
 *
 *     berth_cgroup_create_for_clone(cg, err);
 *     int fd = berth_cgroup_clone_fd(cg);   // unified dir, or -1 (legacy)
 *     clone3(... CLONE_INTO_CGROUP, .cgroup = fd ...)
 *     berth_cgroup_create_v1(cg, err);      // while the child makes its namespaces
 *     berth_cgroup_attach(cg, pid, err);    // v1 hierarchies, before the child goes on
 *                                           // (or the child: berth_cgroup_attach_self)
 *
 * On a hybrid host the container is mirrored in the cgroup2 mount: the
 * processes live there (clone3 into it), so kill, freeze, the populated
 * event and cpu usage come from the mirror. Of the v1 hierarchies,
 * join_all_v1 (what `berth create` sets, like runc) joins every controller
 * hierarchy plus the named name=systemd one, and no other named hierarchy;
 * without it only those whose limits the container sets are joined. The
 * device rules go to the v1 devices hierarchy when it is joined, else to
 * an eBPF filter on the mirror. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/proc.h"
#include "berth/oci.h"

enum berth_cgroup_layout { BERTH_CG_UNIFIED, BERTH_CG_HYBRID, BERTH_CG_LEGACY };

struct berth_cgroup; /* opaque */

struct berth_cgroup_opts {
        const char *id;                          /* container id, used for the default path */
        const char *path;                        /* linux.cgroupsPath, or NULL for <own cgroup>/berth/<id> */
        const struct berth_resources *resources; /* may be NULL; only read during create */
        /* Append runc's default device allowlist (null, zero, full, random,
         * urandom, tty, console, ptmx, pts, mknod of anything) after the
         * spec's rules, as runc does. The device rules always start from
         * "deny everything". */
        bool default_devices;
        /* v1: join every mounted controller hierarchy and name=systemd
         * (runc's behaviour), instead of only the ones the
         * resources need. */
        bool join_all_v1;
};

/* Host layout: statfs(/sys/fs/cgroup) magic. */
int berth_cgroup_detect_layout(enum berth_cgroup_layout *layout, struct berth_err *err);
const char *berth_cgroup_layout_name(enum berth_cgroup_layout layout);

/* For `berth features`: what this runtime supports, and what the host has. */
struct berth_cgroup_features {
        bool v1, v2, systemd, systemd_user, rdma; /* runtime support */
        enum berth_cgroup_layout host_layout;
};
int berth_cgroup_features(struct berth_cgroup_features *f, struct berth_err *err);

/* Resolves the container's cgroup in every hierarchy; touches nothing. */
struct berth_cgroup *berth_cgroup_new(const struct berth_cgroup_opts *o, struct berth_err *err);

/* mkdir the missing levels and apply the resources; on failure every level
 * created here is removed again and err names the resource and the file. */
int berth_cgroup_create(struct berth_cgroup *cg, struct berth_err *err);

/* The same in two steps, so that a process can be cloned in between:
 * create_for_clone makes the unified level (what CLONE_INTO_CGROUP needs)
 * with its device filter and limits, create_v1 the v1 hierarchies and
 * their limits (nothing on a unified host). A create_v1 failure removes
 * the v1 levels it made; the unified level, which may hold the clone by
 * then, is left to berth_cgroup_destroy. */
int berth_cgroup_create_for_clone(struct berth_cgroup *cg, struct berth_err *err);
int berth_cgroup_create_v1(struct berth_cgroup *cg, struct berth_err *err);

/* A directory fd (owned by cg) for clone3's CLONE_INTO_CGROUP, or -1 on a
 * legacy host. Valid after create or restore. */
int berth_cgroup_clone_fd(const struct berth_cgroup *cg);

/* Moves pid into every hierarchy of the container where it is not already
 * (in the container's cgroup or below it), so after clone3 into clone_fd
 * only the v1 hierarchies are written. */
int berth_cgroup_attach(struct berth_cgroup *cg, pid_t pid, struct berth_err *err);

/* An O_DIRECTORY fd (the caller's) of pid's cgroup in the unified hierarchy,
 * which must be the container's cgroup or one below it. For exec into a
 * container whose cgroup admits processes only in leaves (a guest systemd
 * enabled controllers for its own sub-cgroups): join the init's instead. */
int berth_cgroup_open_pid_dir(const struct berth_cgroup *cg, pid_t pid, struct berth_err *err);

/* For the calling process itself, single-threaded (a freshly cloned init
 * or exec child): joins the v1 hierarchies by writing "0" to their `tasks`
 * files. Linux >= 6.0 moves the current thread without the global
 * threadgroup lock, whose write side waits for an RCU grace period (5-20
 * ms) when a pid is written to cgroup.procs. The unified hierarchy is left
 * to CLONE_INTO_CGROUP. */
int berth_cgroup_attach_self(struct berth_cgroup *cg, struct berth_err *err);

/* Every hierarchy the host mounts with the caller in it, in mountinfo
 * order; NULL (n = 0) after restore. Owned by cg. */
const struct berth_cgroup_mount *berth_cgroup_mounts(const struct berth_cgroup *cg, size_t *n);

/* A JSON text to keep in the state file; restore() rebuilds the object. */
char *berth_cgroup_dump(const struct berth_cgroup *cg);
struct berth_cgroup *berth_cgroup_restore(const char *dump, struct berth_err *err);

/* The dump of a cgroup not created yet, for a record made before create:
 * it notes which levels of the path exist already in each hierarchy (the
 * leaf counts as new), so that a repair removes only the container's.
 * One access() per hierarchy when the parent exists. */
char *berth_cgroup_dump_before_create(struct berth_cgroup *cg);

/* Repairs what a crash left: SIGKILLs every process in every hierarchy
 * and sub-cgroup (thawing a v1 freezer), waits until all are gone, and
 * removes the sub-cgroups and the container's levels (the leaf only when
 * the dump knows none). *n_killed: processes
 * killed; *n_removed: hierarchies whose directory was removed. */
int berth_cgroup_salvage(struct berth_cgroup *cg, int *n_killed, int *n_removed, struct berth_err *err);

/* Looks without changing anything (but a v1 freezer, thawed as in
 * salvage): in how many hierarchies the directory exists, and how many
 * processes its tree holds there (each counted once). For a cgroup made
 * by berth_cgroup_new that nothing recorded (a VPS's, found by name). */
int berth_cgroup_probe(struct berth_cgroup *cg, int *n_dirs, int *n_procs);
/* The directory of the cgroup in the unified hierarchy (where the
 * processes are on hybrid hosts too), else in the first v1 one; NULL
 * when there is none. Owned by cg. */
const char *berth_cgroup_dir(const struct berth_cgroup *cg);

/* Signals every process of the container (SIGKILL: cgroup.kill where the
 * kernel has it). */
int berth_cgroup_kill(struct berth_cgroup *cg, int sig, struct berth_err *err);

/* Freezes or thaws and waits until the kernel reports the state
 * (cgroup.events is polled for POLLPRI; v1 freezer has no notification). */
int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, struct berth_err *err);
int berth_cgroup_is_frozen(struct berth_cgroup *cg, bool *frozen, struct berth_err *err);

/* The container's processes (malloc'd array, caller frees). */
int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_err *err);

/* Applies an OCI LinuxResources object to the running container
 * (memory.checkBeforeUpdate is honoured). */
int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_resources *r, struct berth_err *err);

#define BERTH_CG_UNLIMITED UINT64_MAX

struct berth_cgroup_stats {
        struct {
                bool present;
                uint64_t usage, limit, max_usage, failcnt; /* bytes; limit may be UNLIMITED */
                uint64_t swap_usage, swap_limit;           /* v2 swap alone; v1 memory+swap */
                uint64_t swap_failcnt;                     /* v1 memsw.failcnt; v2 memory.swap.events max */
                bool has_events;                           /* v2 memory.events */
                uint64_t ev_low, ev_high, ev_max, ev_oom, ev_oom_kill;
                bool has_oom_kill; /* v1 memory.oom_control oom_kill */
                uint64_t oom_kill;
        } memory;
        struct {
                bool present;
                uint64_t current, limit, ev_max; /* ev_max: forks refused at the limit */
        } pids;
        struct {
                bool present, has_throttling;
                uint64_t usage_ns, user_ns, system_ns;
                uint64_t nr_periods, nr_throttled, throttled_ns;
        } cpu;
        struct {
                bool present;
                uint64_t read_bytes, write_bytes, read_ios, write_ios;
        } io;
};

int berth_cgroup_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *st, struct berth_err *err);

/* Kills what is left, waits until the cgroup is empty (cgroup.events, or
 * pidfds on legacy hosts), removes the container's sub-cgroups and every
 * level create() made -- never a level that existed before. */
int berth_cgroup_destroy(struct berth_cgroup *cg, struct berth_err *err);

void berth_cgroup_free(struct berth_cgroup *cg);

/* Pure cgroup v2 only (EOPNOTSUPP elsewhere). A container's cgroup may be
 * the root of a tree someone else manages (a guest systemd's, delegated),
 * where no process of ours may live ("no internal processes"). A helper
 * that must be charged with the container lives in a sibling cgroup
 * instead, and the parent level holds the limits that bind both:
 *
 *     p = berth_cgroup_parent(cg, err);           // <parent>: the limits
 *     berth_cgroup_update(p, resources, err);
 *     berth_cgroup_attach_child(p, "helper", pid, err);   // <parent>/helper
 *     berth_cgroup_stats(p, &st, err);              // container + helper
 *     berth_cgroup_wait_empty(p, ms, err); // the helper's own end, if it has one
 *     berth_cgroup_destroy(p, err);  // after the container's delete
 *
 * The parent object owns its level exactly when the container's create
 * made it: its destroy then kills what is left below it (the helper),
 * removes the sub-cgroups and the level. EINVAL when the container's
 * cgroup is right below the hierarchy's root. */
struct berth_cgroup *berth_cgroup_parent(const struct berth_cgroup *cg, struct berth_err *err);
/* mkdir <cg>/<name> (one path component) unless it exists and moves pid
 * into it. */
int berth_cgroup_attach_child(struct berth_cgroup *cg, const char *name, pid_t pid, struct berth_err *err);
/* Any layout: moves pid into the level right above cg in every hierarchy
 * of cg, for a helper charged with the container that outlives its
 * cgroups (the VPS console keeper, which removes them after its guest
 * powered off). EINVAL when cg is a hierarchy's root. */
int berth_cgroup_move_above(struct berth_cgroup *cg, pid_t pid, struct berth_err *err);
/* Waits (cgroup.events, no sleep loop) until no process is left in cg or
 * below it, killing nothing: 0, or -ETIMEDOUT after timeout_ms. Needs a
 * cgroup2 hierarchy (a hybrid host's has no controllers, but every
 * process is in it too); -EOPNOTSUPP without one. */
int berth_cgroup_wait_empty(struct berth_cgroup *cg, int timeout_ms, struct berth_err *err);

/* Moves pid into the sub-cgroup `sub` (relative, no "..") of the
 * container's cgroup in the v1 hierarchies that have `controller`, or in
 * every v1 hierarchy when controller is NULL. EINVAL for a controller no
 * v1 hierarchy of the container has. */
int berth_cgroup_attach_sub_v1(struct berth_cgroup *cg, const char *controller, const char *sub, pid_t pid,
                               struct berth_err *err);

/* The container's cgroup path (unified, else the v1 memory one), for display. */
const char *berth_cgroup_path(const struct berth_cgroup *cg);
enum berth_cgroup_layout berth_cgroup_layout(const struct berth_cgroup *cg);

/* Non-fatal notes from create/update ("memory.kernel is ignored ..."),
 * one per line, or NULL. Owned by cg. */
const char *berth_cgroup_warnings(const struct berth_cgroup *cg);

#endif
