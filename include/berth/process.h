/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container process's last steps before execve: executable lookup,
 * rlimits, user and groups, capabilities, no_new_privs, seccomp.
 *
 * All of this runs in the container init (or the exec'd process) after the
 * root filesystem is final, so plain paths already point into the container.
 * Each step is exported on its own for callers that need only one of them
 * (e.g. `berth exec` joining an existing container). */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/spec.h"

/* PATH used when the process environment has none (runc's default). */
#define BERTH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Finds the executable for args[0] like execvp: a name containing '/' is
 * taken as is (relative to the cwd), anything else is searched in PATH from
 * env (BERTH_DEFAULT_PATH when env has no PATH; an empty entry means ".").
 * Writes the path to out. Errors use runc's wording, which clients map to
 * exit codes:
 *   exec: "foo": executable file not found in $PATH         (-ENOENT)
 *   exec: "/x/y": stat /x/y: no such file or directory      (-ENOENT, or the stat errno)
 *   exec: "/etc": permission denied                         (-EACCES: a directory or no x bit)
 * -ENAMETOOLONG when the result does not fit in out. */
int berth_exe_lookup(const char *arg0, char *const env[], char *out, size_t out_len, struct berth_err *err);

/* "RLIMIT_NOFILE" for RLIMIT_NOFILE; NULL for an unknown resource. */
const char *berth_rlimit_name(int resource);

/* setrlimit() for each entry. Errors name the limit:
 * "setrlimit RLIMIT_NOFILE (soft 1024, hard 2048): Operation not permitted". */
int berth_rlimits_apply(const struct berth_rlimit *rl, size_t n, struct berth_err *err);

/* Drops from the bounding set every capability not in `bounding`
 * (caps the running kernel does not know are ignored). Needs CAP_SETPCAP. */
int berth_caps_drop_bounding(uint64_t bounding, struct berth_err *err);

/* Sets permitted/effective/inheritable (capset via libcap), then clears the
 * ambient set and raises each ambient capability. */
int berth_caps_apply(const struct berth_caps *caps, struct berth_err *err);

/* setgroups(additional_gids), setresgid(gid), setresuid(uid), in that order
 * (groups and gid first: once the uid is not 0 we may lose CAP_SETGID).
 * An empty group list where setgroups is denied (an unprivileged user
 * namespace) is not an error. The umask is not touched here. */
int berth_user_apply(const struct berth_user *user, struct berth_err *err);

struct berth_seccomp;
/* process.apparmorProfile, process.selinuxLabel and linux.mountLabel
 * need their LSM on the host: EOPNOTSUPP with a message naming the field
 * otherwise (runc errors too; dropping them would run unconfined). */
bool berth_lsm_apparmor_enabled(void);
bool berth_lsm_selinux_enabled(void);
int berth_lsm_check(const struct berth_process *p, const char *mount_label, struct berth_err *err);
/* Sets the AppArmor profile and SELinux label the next execve takes on
 * (/proc/self/attr/.../exec). Called by berth_process_prepare. */
int berth_lsm_apply_exec(const struct berth_process *p, struct berth_err *err);

struct berth_seccomp_filter;

/* Where a failing final execve is reported. The container's execve is
 * done by berth's exec trampoline (runtime/trampoline.h), after berth's
 * own code is gone, so the trampoline reports it, on report_fd:
 *   STDERR  "berth: exec PATH: strerror" on fd 2 (report_fd unused)
 *   TEXT    "exec PATH: strerror" written as is (the exec fifo of `start`)
 *   SYNC    one SYNC_ERROR message (runtime/sync.h), errno as value;
 *           "berth: ..." on fd 2 when nobody reads it any more
 * and exits 127 (ENOENT) or 126. report_fd must be close-on-exec: it stays
 * open until the container's execve succeeds, then closes. */
enum berth_exec_report {
        BERTH_EXEC_REPORT_STDERR,
        BERTH_EXEC_REPORT_TEXT,
        BERTH_EXEC_REPORT_SYNC,
};

struct berth_exec_ctx {
        const struct berth_process *process;
        const struct berth_seccomp *seccomp; /* NULL: no filter */
        bool seccomp_loaded;                 /* already loaded earlier (NOTIFY listener case) */
        const char *exe;                     /* from berth_exe_lookup */
        /* Compiled before the clone (runtime/seccomp_cache.c): used instead
         * of compiling `seccomp` here; the caller keeps ownership. */
        const struct berth_seccomp_filter *filter;
        enum berth_exec_report report; /* read by finish only: may be set after prepare */
        int report_fd;
        /* A profile with SCMP_ACT_NOTIFY rules: called with the listener fd
         * right after the filter is loaded (the fd is closed afterwards);
         * it must hand the fd to the runtime, which sends it to the
         * listenerPath agent. Such a filter is loaded in prepare, also with
         * noNewPrivileges (as runc does: before the process waits for
         * start). NULL: NOTIFY profiles are refused. */
        int (*seccomp_notify)(void *arg, int notify_fd, struct berth_err *err);
        void *seccomp_notify_arg;
};

/* Applies, in this order: rlimits; oom_score_adj (if set); the seccomp
 * filter when noNewPrivileges is false (the kernel then requires
 * CAP_SYS_ADMIN, so it must come before any privilege is dropped);
 * PR_SET_KEEPCAPS; the bounding set; groups/gid/uid; umask; the capability
 * sets and the ambient set; no_new_privs; the seccomp filter when
 * noNewPrivileges is true (as late as possible, so that as few of our own
 * syscalls as possible run under the user's filter); then
 * execve(exe, args, env), done by the exec trampoline (see
 * berth_exec_report): the exec of the trampoline and its execve both run
 * under the filter, and a failure of the latter is reported as ctx->report
 * says, not returned.
 *
 * When process.capabilities is absent the capability sets are left as the
 * kernel makes them (runc does the same). The seccomp profile is compiled
 * before the first privilege change, so profile errors leave the process
 * untouched. A profile with SCMP_ACT_NOTIFY rules needs ctx->seccomp_notify
 * (or seccomp_loaded = true: the caller loaded it); otherwise this fails
 * with -EINVAL.
 *
 * The working directory is the caller's business (chdir before calling).
 * Returns only on failure. */
int berth_process_exec(const struct berth_exec_ctx *ctx, struct berth_err *err);

struct berth_seccomp_filter;

/* What berth_process_prepare leaves for berth_process_finish. */
struct berth_exec_late {
        struct berth_seccomp_filter *filter; /* to load last, or NULL */
        int trampoline_fd;                   /* sealed memfd with the exec trampoline */
        char **argv;                         /* the trampoline's argv (pointer array only) */
};

/* berth_process_exec in two halves, for the container init, which must
 * have applied everything that can fail before it reports "created" (as
 * runc does), and only then waits for `start`:
 *   prepare: the exec trampoline's memfd (first: before rlimits such as
 *            RLIMIT_FSIZE or NOFILE could stop it), then everything up to
 *            the privilege drop and no_new_privs; fills *late;
 *   finish:  loads late->filter, then execs the trampoline, which execs
 *            ctx->exe. Returns only on failure. Either way *late is
 *            released (also call berth_exec_late_clear when finish is not
 *            reached). */
int berth_process_prepare(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                          struct berth_err *err);
int berth_process_finish(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                         struct berth_err *err);
void berth_exec_late_clear(struct berth_exec_late *late);
/* Loads late->filter now (finish then has none to load): the init calls
 * it once `start` came, before the startContainer hooks, which run with
 * the container's seccomp filter in force as runc's do. */
int berth_process_load_late_filter(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                                   struct berth_err *err);

#endif
