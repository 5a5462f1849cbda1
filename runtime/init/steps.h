/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container init's individual steps (runtime/child_*.c). */
#ifndef BERTH_RUNTIME_CHILD_STEPS_H
#define BERTH_RUNTIME_CHILD_STEPS_H

#include <stddef.h>

#include "runtime/container.h"

int child_join_namespaces(struct container_setup *s, struct berth_err *err);
/* Creates the namespaces that need nothing from the parent (before PROCEED). */
int child_unshare_early(struct container_setup *s, struct berth_err *err);
/* Creates the namespaces the clone did not; in a two-stage start this may
 * fork, and only the new init returns. */
int child_unshare_namespaces(struct container_setup *s, struct berth_err *err);
int child_set_names_and_sysctls(struct container_setup *s, struct berth_err *err);
int child_join_keyring(struct container_setup *s, struct berth_err *err);
int child_chdir_and_lookup(struct container_setup *s, char *exe, size_t exe_len, struct berth_err *err);
/* After READY nobody may be listening: tell the parent if it still is
 * (run), and the container's stderr, then exit 127. */
__attribute__((noreturn)) void child_fail_late(struct container_setup *s, const struct berth_err *err);

#endif
