/* The OCI container behind a VPS ("vps-<name>"): looking it up and
 * removing it with the VPS's network. */
#include <errno.h>

#include "berth/container.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

int vps_container_load(const struct berth_vps_ctx *v, const char *name, struct berth_container_info *info,
                       struct berth_err *err)
{
        char id[BERTH_VPS_NAME_MAX + 8];
        berth_vps_container_id(name, id, sizeof(id));
        struct berth_err lerr = {0};
        int r = berth_container_load(v->ctx, id, info, &lerr);
        if (r == -ENOENT)
                return -ENOENT; /* no error: absence is an answer here */
        if (r < 0)
                *err = lerr;
        return r;
}

int vps_container_cleanup(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_err *err)
{
        char id[BERTH_VPS_NAME_MAX + 8];
        berth_vps_container_id(cfg->name, id, sizeof(id));
        vps_trace(v, "VPS %s: removing container %s and its network", cfg->name, id);
        int r = berth_container_delete(v->ctx, id, true, err);
        struct berth_err net_err = {0};
        int rn = vps_net_down(v, cfg, &net_err);
        if (r >= 0 && rn < 0) {
                *err = net_err;
                r = rn;
        } else if (rn < 0) { /* the delete's error is returned; this one must not vanish */
                vps_warn(v, "%s", net_err.msg);
        }
        return r;
}
