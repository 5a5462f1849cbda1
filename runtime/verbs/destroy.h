/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tearing a stopped container down: cgroup, state, poststop hooks. */
#ifndef BERTH_RUNTIME_DESTROY_H
#define BERTH_RUNTIME_DESTROY_H

#include "berth/cgroup.h"
#include "berth/container.h"
#include "berth/spec.h"
#include "berth/state.h"

/* Removes the cgroup (killing leftovers) and the state directory, then runs
 * the poststop hooks (failures are warnings, as the spec says). spec and
 * cg may be NULL. */
int container_destroy(const struct berth_ctx *ctx, int root_fd, const char *id, struct berth_cgroup *cg,
                      const struct berth_spec *spec, const struct berth_state *st, struct berth_err *err);

#endif
