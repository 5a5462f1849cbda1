// SPDX-License-Identifier: GPL-2.0-or-later
/* NAT and bandwidth in `vps status` / create / set output: the settings in
 * "net", the shapers' counters in "bandwidth" (null while stopped; a
 * direction without a limit is null). */
#include <jansson.h>

#include "cli/vps/vps_cli.h"

static json_t *rate_json(uint64_t bps)
{
        return bps ? json_integer((json_int_t)bps) : json_null();
}

void vps_bandwidth_config_doc(json_t *net, const struct berth_vps_config *cfg)
{
        json_object_set_new(net, "nat", json_boolean(cfg->net.nat));
        json_object_set_new(net, "rate_in", rate_json(cfg->net.rate_in));
        json_object_set_new(net, "rate_out", rate_json(cfg->net.rate_out));
}

static json_t *shaper_doc(const struct berth_tc_stats *s)
{
        if (!s->limited)
                return json_null();
        return json_pack("{s:I, s:I, s:I, s:I}", "rate", (json_int_t)s->bps, "bytes", (json_int_t)s->bytes,
                         "packets", (json_int_t)s->packets, "drops", (json_int_t)s->drops);
}

json_t *vps_bandwidth_status_doc(const struct berth_vps_status *st)
{
        if (!st->running)
                return json_null();
        return json_pack("{s:o, s:o, s:b}", "in", st->has_rate ? shaper_doc(&st->rate_in) : json_null(),
                         "out", st->has_rate ? shaper_doc(&st->rate_out) : json_null(), "nat",
                         st->nat_active);
}
