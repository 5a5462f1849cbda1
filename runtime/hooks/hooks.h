/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks: run one kind of hook in order, state JSON on stdin. */
#ifndef BERTH_RUNTIME_HOOKS_H
#define BERTH_RUNTIME_HOOKS_H

#include "berth/container.h"
#include "berth/spec.h"

/* Runs every hook of `kind` in order, each with `state_json` on its stdin;
 * stops at the first failure (non-zero exit, signal, or timeout). */
int hooks_run(const struct berth_hooks *hooks, enum berth_hook_kind kind, const char *state_json,
              struct berth_err *err);

/* poststart and poststop (runtime-spec: a failing one is logged as a
 * warning, and the remaining hooks and the lifecycle go on): runs every
 * hook of `kind`, warning through ctx for each failure; returns how many
 * failed. */
int hooks_run_all(const struct berth_ctx *ctx, const struct berth_hooks *hooks, enum berth_hook_kind kind,
                  const char *state_json);

#endif
