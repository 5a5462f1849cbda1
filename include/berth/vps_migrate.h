/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `berth vps migrate`: moves a VPS to another host over ssh, daemonless.
 *
 * The source (berth_vps_migrate) runs the OpenSSH client twice over: one
 * control connection that starts `berth vps receive NAME` on the
 * destination (berth_vps_receive: JSON lines on its stdin and stdout), and
 * rsync over ssh for the files. Offline: a first rsync pass while the VPS
 * runs, stop, a second pass of what changed, start on the destination,
 * removal from the source once the destination reports it running. The
 * destination checks everything first (preflight) and changes nothing
 * when a check fails. Live (criu): the processes are checkpointed instead
 * of stopped and restored instead of started. runtime/vps/migrate.c says
 * how a failure or a killed migrate is resolved. */
#ifndef BERTH_VPS_MIGRATE_H
#define BERTH_VPS_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/err.h"
#include "berth/vps.h"

struct berth_vps_migrate_opts {
        const char *name;
        const char *dest;              /* [USER@]HOST, as ssh takes it */
        const char *const *ssh_opts;   /* extra ssh arguments (NULL-terminated) or NULL */
        const char *remote_berth;      /* the command on the destination; NULL: "berth" */
        const char *const *rsync_opts; /* extra rsync arguments (--bwlimit=...) or NULL */
        bool keep_source;              /* keep a stopped copy (autostart off) on the source */
        /* Live: criu pre-dumps the running VPS's memory, dumps it for the
         * last pass and restores it there (its processes go on with their
         * state); refused before anything stops unless `criu check` passes
         * on both sides and the destination gives it the same id range. */
        bool live;
        int stop_timeout; /* seconds for the graceful stop */
        /* Progress (rsync's, and a line per step); NULL: none. */
        void (*progress)(void *arg, const char *text, size_t len);
        void *arg;
};

struct berth_vps_migrate_result {
        bool was_running;       /* stopped here, started there */
        int passes;             /* rsync passes */
        uint64_t bytes_sent[2]; /* per pass */
        int64_t downtime_ms;    /* stop + second pass + start (0 when it was not running) */
        int64_t total_ms;
        uint32_t src_host_id, dst_host_id; /* the id ranges (0: privileged) */
        bool kept_source;
        bool live;
};

int berth_vps_migrate(const struct berth_vps_ctx *v, const struct berth_vps_migrate_opts *o,
                      struct berth_vps_migrate_result *res, struct berth_err *err);

/* The destination's half, on in_fd/out_fd (ssh's stdin and stdout).
 * Returns 0 when the VPS was received, 1 when it refused or the source
 * aborted and the source was told why (nothing left here), -errno. */
int berth_vps_receive(const struct berth_vps_ctx *v, const char *name, int in_fd, int out_fd,
                      struct berth_err *err);

#endif
