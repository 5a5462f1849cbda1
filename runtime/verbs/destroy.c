/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The common end of `delete` and a foreground `run`. */
#include <errno.h>
#include <stdlib.h>

#include "berth/cleanup.h"
#include "berth/systemd.h"
#include "runtime/verbs/destroy.h"
#include "runtime/hooks/hooks.h"

static void run_poststop(const struct berth_ctx *ctx, const struct berth_spec *spec,
                         const struct berth_state *st)
{
        if (!spec || !spec->hooks.n[BERTH_HOOK_POSTSTOP])
                return;
        _cleanup_free_ char *state = berth_oci_state_format(st, BERTH_STATUS_STOPPED, false, false);
        if (!state)
                berth_warn(ctx, "poststop hooks: out of memory");
        else
                hooks_run_all(ctx, &spec->hooks, BERTH_HOOK_POSTSTOP, state);
}

/* --systemd-cgroup: the unit goes with the container. Its cgroup is
 * empty by now, so systemd would collect a scope by itself soon; stopping
 * it here means it is gone when delete returns. Without the driver (the
 * static berth, called without --systemd-cgroup) that collection is all. */
static int stop_unit(const struct berth_ctx *ctx, const char *id, const struct berth_cgroup *cg,
                     struct berth_err *err)
{
        const char *unit = berth_systemd_unit_of_path(berth_cgroup_path(cg));
        if (!ctx->systemd) {
                berth_trace(ctx, "delete '%s': systemd collects %s (no driver linked)", id, unit);
                return 0;
        }
        int r = ctx->systemd->stop(unit, err);
        if (r < 0)
                return berth_err_wrap(err, "delete container '%s'", id);
        berth_trace(ctx, "delete '%s': systemd unit %s stopped", id, unit);
        return 0;
}

int container_destroy(const struct berth_ctx *ctx, int root_fd, const char *id, struct berth_cgroup *cg,
                      const struct berth_spec *spec, const struct berth_state *st, struct berth_err *err)
{
        if (cg) {
                int r = berth_cgroup_destroy(cg, err);
                if (r < 0)
                        return berth_err_wrap(err, "delete container '%s'", id);
                berth_trace(ctx, "delete '%s': cgroup %s removed", id, berth_cgroup_path(cg));
                if (st->systemd_cgroup && (r = stop_unit(ctx, id, cg, err)) < 0)
                        return r;
        }
        int r = berth_state_dir_remove(root_fd, id, err);
        if (r < 0)
                return berth_err_wrap(err, "delete container '%s'", id);
        berth_trace(ctx, "delete '%s': state directory removed", id);
        if (spec && spec->hooks.n[BERTH_HOOK_POSTSTOP])
                berth_trace(ctx, "hooks: %zu poststop", spec->hooks.n[BERTH_HOOK_POSTSTOP]);
        run_poststop(ctx, spec, st);
        berth_trace(ctx, "delete '%s': done", id);
        return 0;
}
