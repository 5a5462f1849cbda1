/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration-test harness: runs a real OCI runtime (berth, or whatever
 * BERTH_BIN names, e.g. /usr/sbin/runc) against bundles whose rootfs is the
 * shared busybox+probe tree built once per build dir, and checks that
 * nothing is left on the host afterwards.
 *
 * Every Check test case runs in a forked child; its context (temp dir, state
 * root, cgroup parent) is made and torn down in the parent by an unchecked
 * fixture, so a failed assertion still gets its containers, cgroups, mounts
 * and files cleaned up. Test code may leak memory: the child exits. */
#ifndef BERTH_ITEST_HARNESS_H
#define BERTH_ITEST_HARNESS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "check_main.h"

#define ITEST_TIMEOUT_MS 20000

struct itest_ctx {
        char tmp[PATH_MAX];    /* per test case, /tmp/berth-itest.XXXXXX */
        char state[PATH_MAX];  /* --root for the runtime */
        char rootfs[PATH_MAX]; /* shared read-only test rootfs */
        char bin[PATH_MAX];    /* runtime binary */
        char cgparent[64];     /* "berth-itest-<pid>": parent of every cgroupsPath */
        int counter;           /* for unique ids and file names */
};

/* The current test case's context. */
struct itest_ctx *itest(void);

/* ---- suite plumbing ------------------------------------------------------ */

/* The suite of an integration test executable (its test_suite() returns
 * it); prints the runtime under test. */
Suite *itest_suite(const char *name);
/* Adds one test as its own TCase with the cleanup fixture. The fixture
 * skips the test (SKIP_IF) unless root, a rootfs with busybox and probe
 * (and what itest_require names), and the runtime binary exist. */
void itest_add(Suite *s, const char *name, const TTest *test);
/* The same with its own time bound (Check's, seconds, times
 * CK_TIMEOUT_MULTIPLIER), for a case that runs a verb many times. */
void itest_add_timeout(Suite *s, const char *name, const TTest *test, double seconds);
/* A further executable, relative to the rootfs, that every test needs. */
void itest_require(const char *rel);
/* Why the environment cannot run the tests, or NULL when it can. */
const char *itest_unavailable(void);

/* ---- running the runtime ------------------------------------------------- */

struct itest_result {
        int status; /* exit code; 128+N if killed by signal N; -1 timeout */
        char *out;  /* captured stdout ("" when not captured) */
        char *err;  /* captured stderr */
};

struct itest_opts {
        int stdin_fd;         /* -1: /dev/null */
        int stdout_fd;        /* -1: captured */
        int stderr_fd;        /* -1: captured */
        const int *extra_fds; /* become fds 3, 4, ... of the runtime */
        size_t n_extra_fds;
        int timeout_ms; /* 0: ITEST_TIMEOUT_MS */
};

struct itest_proc {
        pid_t pid;
        int pidfd;
        char out_path[PATH_MAX];
        char err_path[PATH_MAX];
};

#define ITEST_OPTS_DEFAULT                                                                                   \
        {                                                                                                    \
                .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1                                             \
        }

/* Runs `BIN --root STATE ARGS...` (NULL-terminated) and waits for it. */
int itest_rt(struct itest_result *r, const char *arg, ...) __attribute__((sentinel));
int itest_rt_opts(struct itest_result *r, const struct itest_opts *o, const char *const *argv);
/* Starts the runtime without waiting; itest_proc_wait collects it. */
int itest_rt_spawn(struct itest_proc *p, const struct itest_opts *o, const char *const *argv);
int itest_proc_wait(struct itest_proc *p, struct itest_result *r, int timeout_ms);
/* Reads what the spawned runtime has written to stdout so far. */
char *itest_proc_out(const struct itest_proc *p);

/* ---- specs and bundles --------------------------------------------------- */

struct itest_bundle {
        char id[64];
        char dir[PATH_MAX];
};

/* A config mirroring `runc spec` (minus terminal and the cgroup mount), with
 * root.path the shared rootfs, read-only, and the given args. */
json_t *itest_spec(const char *arg0, ...) __attribute__((sentinel));
/* Sets a value at a dotted path ("process.user.uid"), creating objects on
 * the way; steals value. */
void itest_set(json_t *cfg, const char *path, json_t *value);
/* Appends to the array at a dotted path (created if missing); steals value. */
void itest_push(json_t *cfg, const char *path, json_t *value);
/* Removes the namespace of that type; sets its path when path != NULL. */
void itest_ns_remove(json_t *cfg, const char *type);
void itest_ns_set(json_t *cfg, const char *type, const char *path);
/* Writes bundle dir tmp/<name>-<n>/config.json (cgroupsPath added if the
 * config has none); the id is "<name>-<n>". Does not steal cfg. */
void itest_bundle_new(struct itest_bundle *b, const char *name, const json_t *cfg);
/* Bundle + `run --bundle DIR ID`, waits. */
int itest_run_cfg(struct itest_result *r, const char *name, const json_t *cfg);

/* ---- reading results ----------------------------------------------------- */

/* The value of the first "key=value" line, or NULL. The string stays valid
 * for the next 32 calls. */
const char *itest_kv(const char *text, const char *key);
/* `state ID` parsed, or NULL when the runtime fails. */
json_t *itest_state(const char *id);
const char *itest_state_status(const char *id);
/* Polls until the state status equals status (or the container is gone
 * when status is NULL). */
bool itest_wait_status(const char *id, const char *status, int timeout_ms);
/* Polls until file contains needle. */
bool itest_wait_file(const char *path, const char *needle, int timeout_ms);
char *itest_read_file(const char *path);
/* tmp/<name>, from the ring of strings of itest_kv. */
const char *itest_path(const char *name);
/* A new empty directory tmp/<name>-<n>. */
const char *itest_mkdtemp(const char *name);
/* Inode of /proc/self/ns/<type> of the test process. */
unsigned long long itest_host_ns(const char *type);

#define itest_assert_status(r, expected)                                                                     \
        ck_assert_msg((r)->status == (expected), "runtime exit %d, expected %d\nstdout: %s\nstderr: %s",     \
                      (r)->status, (expected), (r)->out, (r)->err)
#define itest_assert_kv(text, key, expected)                                                                 \
        do {                                                                                                 \
                const char *v_ = itest_kv(text, key);                                                        \
                ck_assert_msg(v_ && !strcmp(v_, expected), "%s: got '%s', expected '%s'\n%s", key,           \
                              v_ ? v_ : "(missing)", expected, text);                                        \
        } while (0)

/* ---- host state ---------------------------------------------------------- */

/* Absolute cgroup dirs for relative path rel (under our own cgroup) in every
 * mounted hierarchy; NULL-terminated, count in *n. */
char **itest_cgroup_dirs(const char *rel, size_t *n);
/* Number of processes in container id's cgroup (the most any hierarchy
 * shows), -1 when it has no cgroup dir. */
int itest_cgroup_nprocs(const char *id);
/* Describes anything container `id` (bundle dir may be NULL) left behind:
 * state entry, cgroup dirs, processes, mounts. Returns false and fills why
 * when there is a leftover. */
bool itest_nothing_left(const char *id, const char *bundle_dir, char *why, size_t len);
#define itest_assert_clean(id, dir)                                                                          \
        do {                                                                                                 \
                char why_[1024];                                                                             \
                ck_assert_msg(itest_nothing_left(id, dir, why_, sizeof(why_)), "left behind by '%s': %s",    \
                              id, why_);                                                                     \
        } while (0)
/* Force-deletes every container in the state root, kills what is left in our
 * cgroups, removes them, unmounts everything under tmp and removes tmp. */
void itest_cleanup(struct itest_ctx *c);
/* Host-wide scan for anything named berth-itest: mounts, processes in such
 * cgroups, cgroup dirs under our own, temp dirs. */
bool itest_host_clean(char *why, size_t len);

/* ---- terminal ------------------------------------------------------------ */

/* Listening unix socket bound at path. */
int itest_console_listen(const char *path);
/* Accepts one connection and receives one fd over SCM_RIGHTS (-1 on error). */
int itest_console_recv(int listen_fd, int timeout_ms);

#endif
