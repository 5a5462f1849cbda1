/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the two halves of `vps migrate`: the source (migrate*.c) and
 * the destination (`vps receive`, receive*.c), which talk JSON lines over
 * one ssh connection while rsync moves the files over others. */
#ifndef BERTH_RUNTIME_VPS_MIGRATE_H
#define BERTH_RUNTIME_VPS_MIGRATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/vps.h"

/* What both sides must agree on beyond the version: the layout of a VPS's
 * directory and of vps.json as rsync moves them. */
#define VPS_MIGRATE_FORMAT 1
/* The source's marker in the VPS's directory while a migration runs. */
#define VPS_MIGRATE_MARKER "migration.json"
/* The destination's staging directory in <data>/vps: ".mig.<name>.<pid>". */
#define VPS_MIGRATE_STAGING ".mig."

/* A content checksum of the tree below dir (names, types, modes, owners,
 * link targets, device numbers and file contents in name order; times are
 * left out) as 32 hex digits; with extra (may be NULL: a file beside the
 * tree such as template.json) mixed in. Tells two copies of a template
 * apart; not a defence against a forger (both hosts are the admin's). */
int vps_tree_sum(const char *dir, const char *extra, char out[33], struct berth_err *err);
/* Bytes allocated below dir (what it takes on the destination's disk). */
int vps_tree_usage(const char *dir, uint64_t *bytes, struct berth_err *err);
/* Moves every uid and gid of the tree below dir (dir included) that lies
 * in [from, from + size) to the same offset from `to`: the VPS's files
 * when its id range differs on the destination. */
int vps_tree_shift(const char *dir, uint32_t from, uint32_t to, uint32_t size, struct berth_err *err);

/* One JSON object per line: write it (flushed) / read the next (NULL at
 * EOF or on error, with err set). */
int vps_line_send(int fd, json_t *msg, struct berth_err *err);
json_t *vps_line_recv(int fd, struct berth_err *err);

/* The source's marker (migration.json) of a VPS whose migrate died
 * (its lock free): phase and destination into the out arguments. 1 when
 * there is a marker whose migrate is gone, 0 when none, -EBUSY while a
 * migrate holds it. */
int vps_migrate_marker_stale(const struct berth_vps_ctx *v, const char *name, char *phase, size_t plen,
                             char *dest, size_t dlen);
/* -EBUSY, saying why, while a migrate works on the VPS, and with
 * stale_too also when one died before it settled where the VPS runs (a
 * start then could run it twice). start and destroy ask under the VPS's
 * lock; migrate and repair, which hold or settle the marker, do not. */
int vps_migration_guard(const struct berth_vps_ctx *v, const char *name, bool stale_too,
                        struct berth_err *err);
int vps_migrate_marker_remove(const struct berth_vps_ctx *v, const char *name);

/* A child of `vps migrate` (ssh, rsync): killed when migrate dies (so
 * that a killed migrate drops its connections and the destination cleans
 * up), stdin and stdout through pipes when asked for (-1: inherited). */
struct vps_child {
        pid_t pid;
        int in;  /* its stdin, or -EBADF */
        int out; /* its stdout, or -EBADF */
};
int vps_child_spawn(char *const *argv, bool pipe_in, bool pipe_out, struct vps_child *c,
                    struct berth_err *err);
/* Closes the pipes and waits for it: its exit code, 128 + signal, -errno. */
int vps_child_wait(struct vps_child *c);

#endif
