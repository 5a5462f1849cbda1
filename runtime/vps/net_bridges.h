/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Overflow bridges (runtime/vps/net_bridges.c), for net.c. */
#ifndef BERTH_VPS_NET_BRIDGES_H
#define BERTH_VPS_NET_BRIDGES_H

#include <stdbool.h>

#include "berth/netns.h"

#define NET_IFNAMSIZ 16

/* 1 when bridge br holds c->bridge_ports_max ports or more (the limit of
 * the test knob; the kernel's own is found by its EXFULL), 0 when not or
 * when it does not exist, -errno. */
int net_bridge_full(struct berth_nl *nl, const char *br, unsigned max, struct berth_err *err);
/* Puts c->host_if (a veth end without a master) on the first overflow
 * bridge of c->bridge with room, made and configured on demand, and
 * routes the guest's addresses to it; its name goes to used. */
int net_bridge_overflow_attach(struct berth_nl *nl, const struct berth_net_config *c,
                               const struct berth_ip_addr *gw4, const struct berth_ip_addr *gw6, char *used,
                               struct berth_err *err);
/* The master of ifname into out ("" when it has none or does not exist). */
int net_bridge_of(struct berth_nl *nl, const char *ifname, char *out, struct berth_err *err);
/* The bridge of c's host end, or (the host end gone already) the overflow
 * bridge its first address is routed to; "" when neither. */
int net_bridge_of_vps(struct berth_nl *nl, const struct berth_net_config *c, char *out,
                      struct berth_err *err);
/* Deletes the host routes of c's addresses to an overflow bridge, or of
 * address a alone when not NULL, wherever they point; idempotent. */
int net_bridge_routes_del(struct berth_nl *nl, const struct berth_net_config *c,
                          const struct berth_ip_addr *a, struct berth_err *err);
/* The host route of a to overflow bridge br. */
int net_bridge_route_add(struct berth_nl *nl, const char *br, const struct berth_ip_addr *a,
                         struct berth_err *err);
/* Removes what of base's group has no port left: own (the bridge a VPS
 * just left) when an overflow bridge, every overflow bridge once base is
 * empty, and base (with its NAT: nat, or found) once none is left.
 * -EBUSY when base stays. Takes net_bridges_lock exclusive: the caller
 * must not hold it. */
int net_bridges_remove(struct berth_nl *nl, const char *base, const char *own, bool nat,
                       struct berth_err *err);

/* The bridges of the caller's network namespace change under one flock:
 * a start holds it shared (LOCK_SH) from finding or making its bridge
 * until its port is on it, net_bridges_remove exclusive. The fd, or
 * -errno; closing it unlocks. */
int net_bridges_lock(int op, struct berth_err *err);

/* Shared by net.c and net_bridges.c: r, or 0 (err cleared) when r is
 * -ok_errno ("already so": EEXIST, ENOENT, ...). */
int net_tolerate(int r, int ok_errno, struct berth_err *err);
/* net/<proto>/conf/<ifname>/<leaf> = value, in the caller's netns. */
int net_conf_sysctl(const char *proto, const char *ifname, const char *leaf, const char *value,
                    struct berth_err *err);

#endif
