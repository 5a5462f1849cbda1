// SPDX-License-Identifier: GPL-2.0-or-later
/* lxcfs: a FUSE file system (Debian's lxcfs package, what LXC and Incus
 * use) that serves /proc/meminfo, cpuinfo, stat, uptime, loadavg, swaps,
 * diskstats and /sys/devices/system/cpu/online computed for the cgroup of
 * the process reading them. Bound over the container's own files, they
 * show the container's limits, uptime and load instead of the host's.
 *
 * A container asks for it with the annotation run.berth.lxcfs=true (every
 * VPS has =auto); berth binds the files at create when lxcfs runs at
 * berth_lxcfs_dir(), and starts the container without them (a warning
 * for true) when it does not. */
#ifndef BERTH_LXCFS_H
#define BERTH_LXCFS_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/err.h"
#include "berth/spec.h"

#define BERTH_LXCFS_ANNOTATION  "run.berth.lxcfs"
#define BERTH_LXCFS_DEFAULT_DIR "/var/lib/lxcfs"
/* Where lxcfs is mounted when not at the default: tests run their own. */
#define BERTH_LXCFS_ENV "BERTH_LXCFS_DIR"

/* $BERTH_LXCFS_DIR, else BERTH_LXCFS_DEFAULT_DIR. */
const char *berth_lxcfs_dir(void);
/* True when dir is a FUSE mount that serves proc/meminfo (lxcfs alive). */
bool berth_lxcfs_running(const char *dir);
/* run.berth.lxcfs: absent or another value (OFF), "true" (ON: a warning
 * when lxcfs does not run), "auto" (AUTO: silently without lxcfs; what a
 * VPS asks for, on hosts that may or may not run lxcfs). */
enum berth_lxcfs_want { BERTH_LXCFS_OFF, BERTH_LXCFS_ON, BERTH_LXCFS_AUTO };
enum berth_lxcfs_want berth_spec_wants_lxcfs(const struct berth_spec *s);
/* Appends read-only binds of the lxcfs files present below dir over the
 * container's own; *added is how many. */
int berth_spec_add_lxcfs(struct berth_spec *s, const char *dir, size_t *added, struct berth_err *err);

#endif
