/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VPS's network, from its vps.json to netns/'s berth_net_setup. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* BERTH_BRIDGE_PORTS_MAX, a test knob (DEVELOPERS.md): a bridge's ports
 * before the next VPS goes onto an overflow bridge, so that a test sees
 * them with a few VPS instead of 1024. Unset or not 1..1023: the kernel's
 * limit. */
static unsigned bridge_ports_max(void)
{
        const char *s = getenv("BERTH_BRIDGE_PORTS_MAX");
        char *end;
        unsigned long n = s && *s ? strtoul(s, &end, 10) : 0;
        return n && n < 1024 && !*end ? (unsigned)n : 0;
}

void vps_net_config(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                    struct berth_net_config *nc)
{
        memset(nc, 0, sizeof(*nc));
        nc->mode = cfg->net.mode;
        nc->bridge = cfg->net.mode == BERTH_NET_BRIDGED ? cfg->net.bridge : NULL;
        nc->host_if = cfg->net.host_if;
        nc->guest_if = "eth0";
        nc->addrs = cfg->net.addrs;
        nc->n_addrs = cfg->net.n_addrs;
        nc->gw4 = cfg->net.gw4;
        nc->gw6 = cfg->net.gw6;
        nc->log = v->ctx ? &v->ctx->log : NULL;
        nc->mac = cfg->net.has_mac ? cfg->net.mac : NULL;
        if (cfg->net.no_filter)
                nc->flags |= BERTH_NET_F_NO_FILTER;
        if (cfg->net.nat)
                nc->flags |= BERTH_NET_F_NAT;
        nc->bridge_ports_max = bridge_ports_max();
}

int vps_net_up(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t init_pid,
               struct berth_err *err)
{
        _cleanup_close_ int netns = berth_netns_open_pid(init_pid, err);
        if (netns < 0)
                return netns;
        struct berth_net_config nc;
        _cleanup_free_ struct berth_nft_port *ports = NULL;
        int r = vps_net_config_full(v, cfg, &nc, &ports, err);
        if (r >= 0)
                vps_trace(v,
                          "VPS %s: network %s: host end %s%s%s, %zu addresses, filter %s, in the netns of %d",
                          cfg->name,
                          cfg->net.mode == BERTH_NET_BRIDGED  ? "bridged"
                          : cfg->net.mode == BERTH_NET_ROUTED ? "routed"
                                                              : "other",
                          cfg->net.host_if, nc.bridge ? " on bridge " : "", nc.bridge ? nc.bridge : "",
                          cfg->net.n_addrs, cfg->net.no_filter ? "off" : "on", (int)init_pid);
        /* bridge.last: where the host end was at the last start (see
         * berth_net_config.last_bridge); a hint, checked against nothing
         * but the bridge of this start, so a stale one costs an announce. */
        char dir[PATH_MAX], last[IF_NAMESIZE] = "", used[IF_NAMESIZE] = "";
        bool bridged = cfg->net.mode == BERTH_NET_BRIDGED;
        if (bridged && berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir)) == 0) {
                if (vps_hint_read(dir, VPS_BRIDGE_HINT, last, sizeof(last)))
                        nc.last_bridge = last;
                nc.bridge_used = used;
        }
        if (r >= 0)
                r = berth_net_setup(&nc, netns, err);
        if (r >= 0 && nc.bridge_used && used[0] && strcmp(used, last) != 0)
                vps_hint_write(dir, VPS_BRIDGE_HINT, used);
        if (r >= 0)
                r = vps_bandwidth_up(v, cfg, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: network up", cfg->name);
        return r < 0 ? berth_err_wrap(err, "VPS %s: network", cfg->name) : 0;
}

int vps_net_down_flags(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, unsigned flags,
                       struct berth_err *err)
{
        struct berth_net_config nc;
        vps_net_config(v, cfg, &nc);
        int r = berth_net_teardown(&nc, flags, err);
        if (r >= 0)
                r = vps_bandwidth_down(v, cfg, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: network torn down (host end %s)", cfg->name, cfg->net.host_if);
        return r < 0 ? berth_err_wrap(err, "VPS %s: network teardown", cfg->name) : 0;
}

int vps_net_down(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err)
{
        return vps_net_down_flags(v, cfg, BERTH_NET_TEARDOWN_BRIDGE, err);
}

int vps_net_config_full(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                        struct berth_net_config *nc, struct berth_nft_port **ports, struct berth_err *err)
{
        vps_net_config(v, cfg, nc);
        *ports = NULL;
        if (cfg->net.no_filter)
                return 0;
        size_t n = 0;
        int r = vps_host_ports_load(ports, &n, err);
        nc->host_ports = *ports;
        nc->n_host_ports = n;
        return r;
}
