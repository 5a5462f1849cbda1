/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state store: one directory per container under the state root.
 *
 *   <root>/<id>/state.json   this struct, written atomically (tmp + rename)
 *   <root>/<id>/config.json  a copy of the bundle's config taken at create
 *   <root>/<id>/exec.fifo    exists while the container is "created"
 *   <root>/<id>/lock         flock()ed by whoever changes the container
 *
 * The status is never stored: it is derived from the init process (its pid
 * and start time, so a recycled pid is never taken for the init), the fifo
 * and the cgroup freezer. */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/spec.h"

#define BERTH_ID_MAX 1024

enum berth_status {
        BERTH_STATUS_CREATING,
        BERTH_STATUS_CREATED,
        BERTH_STATUS_RUNNING,
        BERTH_STATUS_PAUSED,
        BERTH_STATUS_STOPPED,
        /* The state directory is damaged (no, empty, truncated or garbage
         * state.json, its creator gone): only `delete --force` repairs it. */
        BERTH_STATUS_UNKNOWN,
};

struct berth_state {
        char *id;
        char *bundle;            /* absolute */
        char *rootfs;            /* absolute */
        pid_t pid;               /* init, in the host pid namespace; 0 if none */
        uint64_t pid_start_time; /* field 22 of /proc/<pid>/stat */
        char *created;           /* RFC3339 with nanoseconds */
        char *owner;             /* user name of the creator */
        char *cgroup;            /* berth_cgroup_dump() text, or NULL */
        bool systemd_cgroup;
        struct berth_key_value *annotations;
        size_t n_annotations;
};

/* Validates a container id: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 bytes. */
bool berth_id_valid(const char *id);

/* Opens (creating it if needed) the state root and returns its dir fd. */
int berth_state_root_open(const char *root, struct berth_err *err);

/* Creates <root>/<id> exclusively; fails with EEXIST "container with id exists: ID". Returns the dir fd. */
int berth_state_dir_create(int root_fd, const char *id, struct berth_err *err);

/* Like berth_state_dir_create, but the directory is made under a
 * temporary name (.new.<id>.<pid>), locked, then renamed into place: no
 * one ever sees <id> without a live creator holding its lock or a
 * state.json in it. *lock_fd gets the held lock (close it once state.json
 * is written). */
int berth_state_dir_create_locked(int root_fd, const char *id, int *lock_fd, struct berth_err *err);

/* Removes the empty .new.<id>.* directories a create killed before its
 * rename left behind (skipping one whose creator still runs). Returns how
 * many went. */
int berth_state_sweep_new(int root_fd, const char *id);

/* Tries the container's lock without blocking: 1 when taken (the returned
 * fd in *lock_fd holds it), 0 when someone else holds it, -errno on error. */
int berth_state_trylock(int dir_fd, int *lock_fd);

/* The cgroup dump written before any cgroup directory is made, so that
 * `delete --force` finds the cgroup whatever became of state.json. */
#define BERTH_STATE_CGROUP_FILE "cgroup.json"

/* Opens <root>/<id>; ENOENT becomes "container does not exist: ID". Returns the dir fd. */
int berth_state_dir_open(int root_fd, const char *id, struct berth_err *err);

/* Takes the container's lock (blocking, exclusive). Returns the lock fd; closing it releases. */
int berth_state_lock(int dir_fd, struct berth_err *err);

int berth_state_write(int dir_fd, const struct berth_state *st, struct berth_err *err);
int berth_state_read(int dir_fd, struct berth_state *st, struct berth_err *err);
/* Parses state.json text (exposed for tests and the fuzzer). */
int berth_state_parse(const char *json, size_t len, struct berth_state *st, struct berth_err *err);
char *berth_state_format(const struct berth_state *st);
void berth_state_clear(struct berth_state *st);

/* Removes <root>/<id> and everything in it (only plain files are expected). */
int berth_state_dir_remove(int root_fd, const char *id, struct berth_err *err);

/* Lists container ids (sorted); *ids is NULL-terminated, free with berth_strv_freep. */
int berth_state_list(int root_fd, char ***ids, struct berth_err *err);

/* Whether the recorded init is still this very process (pid + start time). */
bool berth_state_init_alive(const struct berth_state *st);

/* Reads the start time (field 22) of /proc/<pid>/stat; 0 when gone or exiting. */
uint64_t berth_proc_start_time(pid_t pid);
/* Parses the start time out of a /proc/<pid>/stat line; 0 on malformed input. */
uint64_t berth_proc_stat_start_time(const char *stat_line);
/* Whether a /proc/<pid>/stat line is of a task in its exit or past it
 * (exiting, zombie or dead); true on malformed input. */
bool berth_proc_stat_exited(const char *stat_line);

const char *berth_status_name(enum berth_status s);

/* The OCI state document (runtime-spec "state"): ociVersion, id, status,
 * pid, bundle, annotations, plus runc's rootfs, created and owner when
 * `full`. Pretty-printed when `pretty`. Newly allocated. */
char *berth_oci_state_format(const struct berth_state *st, enum berth_status status, bool full, bool pretty);
#endif
