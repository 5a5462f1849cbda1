/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers of the escape-regression tests (tests/security/), on top
 * of the integration harness (tests/integration/harness.h).
 *
 * Containers run from this folder's rootfs (the integration rootfs plus
 * /bin/attacker), with linux.cgroupsPath "berth-sec-<pid>/<id>" and the
 * harness's private --root. */
#ifndef BERTH_SEC_H
#define BERTH_SEC_H

#include "harness.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Call first in every test: cgroup parent and rootfs of this suite. */
void sec_begin(void);
/* The suite of a security test executable (like itest_suite); its tests
 * also need /bin/attacker, and after the run the berth-sec-<pid> cgroup
 * parents the containers left empty are removed. */
Suite *sec_suite(const char *name);

/* A config running /bin/attacker with these args (NULL-terminated). */
json_t *sec_spec(const char *arg0, ...) __attribute__((sentinel));
/* Adds a mount {destination, type, source, options...(NULL-terminated)}. */
void sec_mount(json_t *cfg, const char *dest, const char *type, const char *src, ...)
    __attribute__((sentinel));
/* Grants a capability in every set. */
void sec_add_cap(json_t *cfg, const char *cap);

/* The whole file, malloc'd; *len its size. Fails the test when unreadable. */
char *sec_slurp(const char *path, size_t *len);
/* Copies src to dst with mode. */
void sec_copy(const char *src, const char *dst, mode_t mode);
/* The host's mount points (one per line, sorted) -- /proc/self/mountinfo
 * field 5 -- for before/after comparisons. */
char *sec_host_mounts(void);
/* The first mount point that is in `after` more often than in `before`
 * and lies where no container mount may land: "/", /etc, /tmp, or inside
 * the test's temp dir but outside `rootfs`. NULL when there is none.
 * (Other tests may mount elsewhere on the host meanwhile.) */
const char *sec_escaped_mount(const char *before, const char *after, const char *rootfs);
/* Asserts the runtime left nothing of container id (state, cgroups,
 * processes, mounts). */
void sec_assert_clean(const char *id, const char *dir);
/* `delete --force id`, asserting success. */
void sec_delete(const char *id);

#endif
