// SPDX-License-Identifier: GPL-2.0-or-later
/* A VPS's way out and its bandwidth: --nat (the bridge's masquerade,
 * netns/nat.c) and --rate-in/--rate-out (the host end's shapers,
 * netns/tc.c), from vps.json to the running VPS, live changes, and the
 * counters `vps status` shows. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "berth/nft.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* Rates in bits per second ("100mbit"), as tc and Incus write them, or
 * in bytes per second with --memory's binary suffixes ("10M"). */
int berth_vps_parse_rate(const char *s, uint64_t *bps)
{
        static const struct {
                const char *unit;
                double mult;
        } bits[] = {{"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12}};
        if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
                return -EINVAL;
        char *end;
        double v = strtod(s, &end);
        for (size_t i = 0; end != s && i < BERTH_ARRAY_SIZE(bits); i++)
                if (!strcasecmp(end, bits[i].unit)) {
                        double b = v * bits[i].mult;
                        if (!isfinite(b) || b < 1 || b > 1e15)
                                return -EINVAL;
                        *bps = (uint64_t)b;
                        return 0;
                }
        int64_t bytes;
        int r = berth_vps_parse_size(s, &bytes);
        if (r < 0 || bytes <= 0 || bytes > INT64_MAX / 8)
                return -EINVAL;
        *bps = (uint64_t)bytes * 8;
        return 0;
}

/* "rate_in" / "rate_out" (bits per second) and "nat" of vps.json's net. */
int vps_bandwidth_parse(json_t *o, struct berth_vps_net *n, struct berth_err *err)
{
        static const char *const keys[] = {"rate_in", "rate_out"};
        uint64_t *vals[] = {&n->rate_in, &n->rate_out};
        for (size_t i = 0; i < 2; i++) {
                json_t *r = json_object_get(o, keys[i]);
                if (!r || json_is_null(r))
                        continue;
                if (!json_is_integer(r) || json_integer_value(r) < 0)
                        return berth_err_set(err, EINVAL, "vps.json: net.%s: not bits per second", keys[i]);
                *vals[i] = (uint64_t)json_integer_value(r);
        }
        json_t *nat = json_object_get(o, "nat");
        if (nat && !json_is_boolean(nat))
                return berth_err_set(err, EINVAL, "vps.json: net.nat: not true or false");
        n->nat = json_is_true(nat);
        if (n->nat && n->mode != BERTH_NET_BRIDGED)
                return berth_err_set(err, EINVAL, "vps.json: net.nat: only for a bridged VPS");
        return 0;
}

int vps_bandwidth_json(json_t *o, const struct berth_vps_net *n)
{
        int r = 0;
        if (n->nat)
                r |= json_object_set_new(o, "nat", json_true());
        if (n->rate_in)
                r |= json_object_set_new(o, "rate_in", json_integer((json_int_t)n->rate_in));
        if (n->rate_out)
                r |= json_object_set_new(o, "rate_out", json_integer((json_int_t)n->rate_out));
        return r ? -ENOMEM : 0;
}

static int rate_opt(const char *opt, const char *s, bool none_ok, uint64_t *out, struct berth_err *err)
{
        if (!s)
                return 0;
        if (none_ok && (!strcmp(s, "none") || !strcmp(s, "unlimited"))) {
                *out = 0;
                return 0;
        }
        if (berth_vps_parse_rate(s, out) < 0)
                return berth_err_set(
                    err, EINVAL, "%s: invalid rate \"%s\" (e.g. 100mbit, 1gbit, or 10M bytes per second%s)",
                    opt, s, none_ok ? ", or none" : "");
        return 0;
}

int vps_bandwidth_opts(struct berth_vps_net *n, bool nat, const char *rate_in, const char *rate_out, bool set,
                       struct berth_err *err)
{
        int r = rate_opt("--rate-in", rate_in, set, &n->rate_in, err);
        if (r >= 0)
                r = rate_opt("--rate-out", rate_out, set, &n->rate_out, err);
        if (r >= 0 && nat && n->mode != BERTH_NET_BRIDGED)
                r = berth_err_set(err, EINVAL,
                                  "--nat: only for a bridged VPS (a routed VPS's addresses are routed by "
                                  "the host: see berth-vps(8), ROUTED MODE)");
        if (r >= 0 && nat && !n->gw4.family)
                r = berth_err_set(err, EINVAL, "--nat: the bridge has no IPv4 subnet (--gateway4)");
        if (r >= 0)
                n->nat = nat;
        return r;
}

/* The IFB device shaping what the guest sends: its host end + "r". */
void vps_ifb_name(const struct berth_vps_config *cfg, char out[16])
{
        snprintf(out, 16, "%.14sr", cfg->net.host_if);
}

int vps_bandwidth_up(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err)
{
        if (!cfg->net.rate_in && !cfg->net.rate_out)
                return 0;
        char ifb[16];
        vps_ifb_name(cfg, ifb);
        _cleanup_nl_ struct berth_nl *nl = berth_nl_open(err);
        if (!nl)
                return -(err && err->code ? err->code : EIO);
        int r = berth_tc_rate_set(nl, cfg->net.host_if, ifb, cfg->net.rate_in, cfg->net.rate_out, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: rates on %s: in %llu bit/s, out %llu bit/s (via %s)", cfg->name,
                          cfg->net.host_if, (unsigned long long)cfg->net.rate_in,
                          (unsigned long long)cfg->net.rate_out, ifb);
        return r < 0 ? berth_err_wrap(err, "VPS %s: bandwidth", cfg->name) : 0;
}

int vps_ifb_remove(const char *host_if, struct berth_err *err)
{
        char ifb[16];
        snprintf(ifb, sizeof(ifb), "%.14sr", host_if);
        _cleanup_nl_ struct berth_nl *nl = berth_nl_open(err);
        if (!nl)
                return -(err && err->code ? err->code : EIO);
        return berth_tc_ifb_remove(nl, host_if, ifb, err);
}

/* The IFB outlives the host end: it goes with the network. */
int vps_bandwidth_down(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct berth_err *err)
{
        int r = vps_ifb_remove(cfg->net.host_if, err);
        return r < 0 ? berth_err_wrap(err, "VPS %s: bandwidth", cfg->name) : 0;
}

/* vps set on a running VPS: rates replaced, NAT added to its bridge. A
 * --no-nat stays until the bridge goes (another VPS may rely on it). */
int vps_bandwidth_live(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                       const struct berth_vps_config *cfg, struct berth_err *err)
{
        int r = 0;
        if (old->net.rate_in != cfg->net.rate_in || old->net.rate_out != cfg->net.rate_out) {
                char ifb[16];
                vps_ifb_name(cfg, ifb);
                _cleanup_nl_ struct berth_nl *nl = berth_nl_open(err);
                if (!nl)
                        return -(err && err->code ? err->code : EIO);
                r = berth_tc_rate_set(nl, cfg->net.host_if, ifb, cfg->net.rate_in, cfg->net.rate_out, err);
                if (r >= 0)
                        vps_trace(v, "VPS %s: rates changed live", cfg->name);
        }
        if (r >= 0 && cfg->net.nat && !old->net.nat)
                r = berth_nat_apply(cfg->net.bridge, &cfg->net.gw4, NULL, err);
        return r < 0 ? berth_err_wrap(err, "VPS %s: bandwidth", cfg->name) : 0;
}

/* Counters for vps status: a bonus, as the cgroup's usage. */
void vps_bandwidth_status(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_vps_status *st)
{
        if (!st->running)
                return;
        struct berth_err e = {0};
        char ifb[16];
        vps_ifb_name(cfg, ifb);
        _cleanup_nl_ struct berth_nl *nl = berth_nl_open(&e);
        if (nl && berth_tc_rate_stats(nl, cfg->net.host_if, ifb, &st->rate_in, &st->rate_out, &e) >= 0)
                st->has_rate = true;
        else
                vps_trace(v, "VPS %s: no bandwidth counters: %s", cfg->name, e.msg);
        berth_err_clear(&e);
        if (cfg->net.mode == BERTH_NET_BRIDGED && cfg->net.nat)
                st->nat_active = berth_nat_active(cfg->net.bridge, &e) > 0;
}
