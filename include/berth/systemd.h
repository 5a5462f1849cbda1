/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The systemd cgroup driver (--systemd-cgroup), as containerd's
 * `SystemdCgroup = true` uses it.
 *
 * The container's cgroupsPath is "slice:prefix:name" (runc's form): the
 * container gets a transient scope unit <prefix>-<name>.scope in <slice>
 * (system.slice when empty; "-" is the root slice), created by systemd
 * over D-Bus with the container init's pid in it. Its cgroup is then
 * /<slice path>/<unit>, where berth's cgroupfs code applies the limits,
 * freezes, kills and reads stats as with any other cgroup.
 *
 * The parser (berth_systemd_unit_parse) belongs to the cgroups layer; the
 * D-Bus side (libsystemd's sd-bus) is a library of its own that only the
 * full binary links: the runtime reaches it through the driver table in
 * its context, which is NULL in the static berth (main() runs berth-full
 * for --systemd-cgroup). */
#ifndef BERTH_SYSTEMD_H
#define BERTH_SYSTEMD_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/oci.h"

struct berth_systemd_unit {
        char slice[256];     /* parent slice unit ("system.slice"); "" for a slice unit */
        char name[256];      /* the unit: "berth-ID.scope", or "NAME.slice" */
        char path[PATH_MAX]; /* its cgroup below the hierarchy root: "/system.slice/berth-ID.scope" */
        bool is_slice;       /* name ended in ".slice": a slice unit, the pid joins it by cgroupfs */
};

/* Parses "slice:prefix:name" (an empty or NULL cgroupsPath is ":berth:ID")
 * by runc's rules: an empty slice is system.slice, "-" the root slice, a
 * dash in a slice name nests it (a-b.slice lives in a.slice); a name
 * ending in ".slice" is that slice itself (prefix ignored), else the unit
 * is <prefix>-<name>.scope (<name>.scope without a prefix). EINVAL with
 * runc's words for anything else. */
int berth_systemd_unit_parse(const char *cgroups_path, const char *id, struct berth_systemd_unit *u,
                             struct berth_err *err);

/* The unit name of a cgroup path made by the parser: its last component. */
const char *berth_systemd_unit_of_path(const char *cgroup_path);

/* True when systemd is the host's init (/run/systemd/system exists, as
 * sd_booted() checks). */
bool berth_systemd_booted(void);

/* What the runtime calls; every call opens its own bus connection (the
 * system bus, or systemd's private socket when no D-Bus daemon runs). */
struct berth_systemd_driver {
        /* StartTransientUnit(u->name, "replace") with Description, Slice,
         * PIDs={pid}, Delegate=yes, DefaultDependencies=no, accounting on,
         * and the limits systemd knows (MemoryMax, CPUWeight,
         * CPUQuotaPerSecUSec, TasksMax, AllowedCPUs, ...) taken from r
         * (may be NULL); waits (bounded) until the start job is done. A
         * slice unit gets no pid. */
        int (*start)(const struct berth_systemd_unit *u, const char *description, pid_t pid,
                     const struct berth_resources *r, struct berth_err *err);
        /* SetUnitProperties(unit, runtime) with the limits of r: keeps
         * systemd from undoing `update` when it rewrites the cgroup. */
        int (*set)(const char *unit, const struct berth_resources *r, struct berth_err *err);
        /* StopUnit(unit, "replace"), waits for the job; a unit systemd
         * already collected is not an error. */
        int (*stop)(const char *unit, struct berth_err *err);
};

/* The sd-bus implementation (libberth_systemd, full binary only). */
const struct berth_systemd_driver *berth_systemd_driver(void);

#endif
