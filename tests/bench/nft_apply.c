/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network filter's share of a VPS start and stop: N times
 * berth_nft_guest_apply (what start adds) and berth_nft_guest_remove (what
 * stop adds) for one veth, in the caller's network namespace (run it under
 * `unshare -n`: it makes the veth bench0/bench1 and berth's tables there).
 * K other filtered VPS (veths o0, o1, ...) are made first: the cost must
 * not grow with them.
 * With "fresh", bench0 is made anew before each apply, as a start does
 * (the hook then attaches to a new device).
 * usage: nft-apply-bench [N [K [fresh]]] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/netns.h"
#include "berth/nft.h"

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 200;
        int k = argc > 2 ? atoi(argv[2]) : 0;
        bool fresh = argc > 3 && !strcmp(argv[3], "fresh");
        struct berth_err err = {0};
        struct berth_nl *nl = berth_nl_open(&err);
        struct berth_veth_opts o = {.peer_netns_fd = -1, .up = true};
        if (!nl || berth_link_add_veth(nl, "bench0", "bench1", &o, &err) < 0) {
                fprintf(stderr, "setup: %s\n", err.msg);
                return 1;
        }
        struct berth_ip_addr addrs[2];
        berth_ip_addr_parse("10.77.0.2/16", &addrs[0], &err);
        berth_ip_addr_parse("fd77::2/64", &addrs[1], &err);
        struct berth_nft_port port = {.proto = 17, .port = 53};
        struct berth_nft_guest g = {.host_if = "bench0",
                                    .host_side = "bench0",
                                    .mac = {2, 0, 0, 0, 0, 2},
                                    .addrs = addrs,
                                    .n_addrs = 2,
                                    .ports = &port,
                                    .n_ports = 1};
        for (int i = 0; i < k; i++) {
                char name[16], peer[16];
                snprintf(name, sizeof(name), "o%d", i);
                snprintf(peer, sizeof(peer), "p%d", i);
                struct berth_ip_addr oa = addrs[0];
                oa.u.raw[2] = (unsigned char)(i >> 8);
                oa.u.raw[3] = (unsigned char)i;
                struct berth_nft_guest og = {.host_if = name,
                                             .host_side = name,
                                             .mac = {2, 1, 0, 0, 0, 1},
                                             .addrs = &oa,
                                             .n_addrs = 1};
                og.mac[4] = (unsigned char)(i >> 8);
                og.mac[5] = (unsigned char)i;
                struct berth_veth_opts vo = {.peer_netns_fd = -1};
                if (berth_link_add_veth(nl, name, peer, &vo, &err) < 0 ||
                    berth_nft_guest_apply(&og, NULL, &err) < 0) {
                        fprintf(stderr, "other %s: %s\n", name, err.msg);
                        return 1;
                }
        }
        double apply = 0, rm = 0;
        for (int i = 0; i < n; i++) {
                if (fresh && i > 0 &&
                    (berth_link_del(nl, "bench0", &err) < 0 ||
                     berth_link_add_veth(nl, "bench0", "bench1", &o, &err) < 0)) {
                        fprintf(stderr, "fresh veth: %s\n", err.msg);
                        return 1;
                }
                double t0 = now_ms();
                if (berth_nft_guest_apply(&g, NULL, &err) < 0) {
                        fprintf(stderr, "apply: %s\n", err.msg);
                        return 1;
                }
                double t1 = now_ms();
                if (berth_nft_guest_remove(&g, &err) < 0) {
                        fprintf(stderr, "remove: %s\n", err.msg);
                        return 1;
                }
                apply += t1 - t0;
                rm += now_ms() - t1;
        }
        printf("filter apply (start): %.3f ms, remove (stop): %.3f ms, mean of %d, %d other VPS\n", apply / n,
               rm / n, n, k);
        berth_link_del(nl, "bench0", &err);
        berth_nl_close(nl);
        return 0;
}
