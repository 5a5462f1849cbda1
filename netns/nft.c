/* VPS filters as nft script text run through libnftables (see
 * berth/nft.h for the tables). Text rather than libnftnl expressions: the
 * rules read like the documentation, and libnftables does the set and
 * dependency work (e.g. "arp saddr ip" implies "ether type arp"). */
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "berth/cleanup.h"
#include "berth/nft.h"

int berth_nft_port_parse(const char *s, struct berth_nft_port *out, struct berth_err *err)
{
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash)
                return berth_err_set(err, EINVAL, "host port \"%s\": not tcp/PORT or udp/PORT", s ? s : "");
        size_t plen = (size_t)(slash - s);
        if (plen == 3 && !strncmp(s, "tcp", 3))
                out->proto = IPPROTO_TCP;
        else if (plen == 3 && !strncmp(s, "udp", 3))
                out->proto = IPPROTO_UDP;
        else
                return berth_err_set(err, EINVAL, "host port \"%s\": protocol is tcp or udp", s);
        char *end = NULL;
        errno = 0;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (errno || !slash[1] || *end || p < 1 || p > 65535)
                return berth_err_set(err, EINVAL, "host port \"%s\": port is 1 to 65535", s);
        out->port = (uint16_t)p;
        return 0;
}

void berth_nft_mac_link_local(const unsigned char mac[6], struct berth_ip_addr *out)
{
        memset(out, 0, sizeof(*out));
        out->family = AF_INET6;
        out->prefixlen = 64;
        unsigned char *b = out->u.v6.s6_addr;
        b[0] = 0xfe;
        b[1] = 0x80;
        b[8] = mac[0] ^ 0x02;
        b[9] = mac[1];
        b[10] = mac[2];
        b[11] = 0xff;
        b[12] = 0xfe;
        b[13] = mac[3];
        b[14] = mac[4];
        b[15] = mac[5];
}

/* "{ a, b }" of the addresses of one family: as addresses, or (hex) as
 * 128-bit integers for raw payload matches. Returns how many. */
static size_t put_addr_set(FILE *f, const struct berth_nft_guest *g, int family,
                           const struct berth_ip_addr *extra, bool hex)
{
        size_t n = 0;
        fputs("{ ", f);
        for (size_t i = 0; i <= g->n_addrs; i++) {
                const struct berth_ip_addr *a = i < g->n_addrs ? &g->addrs[i] : extra;
                if (!a || a->family != family)
                        continue;
                fputs(n++ ? ", " : "", f);
                if (hex) {
                        fputs("0x", f);
                        for (size_t k = 0; k < 16; k++)
                                fprintf(f, "%02x", a->u.v6.s6_addr[k]);
                } else {
                        char buf[BERTH_IP_ADDR_STRLEN];
                        fputs(berth_ip_addr_format(a, false, buf, sizeof(buf)), f);
                }
        }
        fputs(" }", f);
        return n;
}

static bool has_family(const struct berth_nft_guest *g, int family)
{
        for (size_t i = 0; i < g->n_addrs; i++)
                if (g->addrs[i].family == family)
                        return true;
        return false;
}

/* The guest's own chain: a frame passes only when every check holds. */
static void put_guest_chain(FILE *f, const struct berth_nft_guest *g)
{
        const char *c = g->host_if;
        char mac[18];
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", g->mac[0], g->mac[1], g->mac[2],
                 g->mac[3], g->mac[4], g->mac[5]);
        struct berth_ip_addr ll;
        berth_nft_mac_link_local(g->mac, &ll);
        fprintf(f, "add table netdev berth\n");
        fprintf(f,
                "add chain netdev berth %s { type filter hook ingress device \"%s\" priority 0; "
                "policy accept; }\nflush chain netdev berth %s\n",
                c, c, c);
        fprintf(f, "add rule netdev berth %s ether saddr != %s counter drop\n", c, mac);
        /* No VLAN tags, no other protocols: nothing the checks below miss. */
        fprintf(f, "add rule netdev berth %s ether type != { arp, ip, ip6 } counter drop\n", c);
        fprintf(f, "add rule netdev berth %s arp saddr ether != %s counter drop\n", c, mac);
        if (has_family(g, AF_INET)) {
                fprintf(f, "add rule netdev berth %s arp saddr ip != ", c);
                put_addr_set(f, g, AF_INET, NULL, false);
                fputs(" counter drop\n", f);
        } else {
                fprintf(f, "add rule netdev berth %s ether type { arp, ip } counter drop\n", c);
        }
        /* A guest is no DHCP server and no router of its neighbours. */
        fprintf(f, "add rule netdev berth %s udp sport { 67, 547 } counter drop\n", c);
        fprintf(f, "add rule netdev berth %s icmpv6 type { nd-router-advert, nd-redirect } counter drop\n",
                c);
        /* Neighbour advertisements, and duplicate address detection (from
         * ::), only for its own addresses: the target at offset 8. */
        fprintf(f, "add rule netdev berth %s icmpv6 type nd-neighbor-advert @th,64,128 != ", c);
        put_addr_set(f, g, AF_INET6, &ll, true);
        fputs(" counter drop\n", f);
        fprintf(f, "add rule netdev berth %s ip6 saddr :: icmpv6 type nd-neighbor-solicit @th,64,128 != ", c);
        put_addr_set(f, g, AF_INET6, &ll, true);
        fputs(" counter drop\n", f);
        fprintf(f,
                "add rule netdev berth %s ip6 saddr :: icmpv6 type { nd-neighbor-solicit, "
                "mld2-listener-report } accept\n",
                c);
        if (has_family(g, AF_INET)) {
                fprintf(f, "add rule netdev berth %s ip saddr != ", c);
                put_addr_set(f, g, AF_INET, NULL, false);
                fputs(" counter drop\n", f);
        }
        fprintf(f, "add rule netdev berth %s ip6 saddr != ", c);
        put_addr_set(f, g, AF_INET6, &ll, false);
        fputs(" counter drop\n", f);
}

/* The host's side, shared by all VPS: rewritten whole at each apply so that
 * it is always the current berth's (one transaction; no window open). */
static void put_host_chains(FILE *f, const struct berth_nft_guest *g)
{
        fputs("add table inet berth\n"
              "add set inet berth ifs { type ifname; }\n"
              "add set inet berth ports { type inet_proto . inet_service; }\n"
              "add chain inet berth input { type filter hook input priority 0; policy accept; }\n"
              "add chain inet berth guest_in\n"
              "flush chain inet berth input\n"
              "flush chain inet berth guest_in\n"
              "add rule inet berth input iifname @ifs jump guest_in\n"
              "add rule inet berth guest_in ct state established,related accept\n"
              "add rule inet berth guest_in icmp type echo-request accept\n"
              "add rule inet berth guest_in icmpv6 type { echo-request, nd-neighbor-solicit, "
              "nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report } accept\n"
              "add rule inet berth guest_in meta l4proto . th dport @ports accept\n"
              "add rule inet berth guest_in counter drop\n"
              "flush set inet berth ports\n",
              f);
        for (size_t i = 0; i < g->n_ports; i++)
                fprintf(f, "add element inet berth ports { %s . %u }\n",
                        g->ports[i].proto == IPPROTO_TCP ? "tcp" : "udp", g->ports[i].port);
        fprintf(f, "add element inet berth ifs { \"%s\" }\n", g->host_side);
}

static char *script(void (*put)(FILE *, const void *), const void *data)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        put(f, data);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void put_apply(FILE *f, const void *data)
{
        put_guest_chain(f, data);
        put_host_chains(f, data);
}

char *berth_nft_guest_script(const struct berth_nft_guest *g)
{
        return script(put_apply, g);
}

static void nft_ctx_freep(struct nft_ctx **c)
{
        if (*c)
                nft_ctx_free(*c);
}

/* Runs text as one transaction; the error text is nft's first line. */
static int run(const char *text, const char *what, struct berth_err *err)
{
        __attribute__((cleanup(nft_ctx_freep))) struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!c)
                return berth_err_set(err, ENOMEM, "%s: nftables context", what);
        nft_ctx_buffer_output(c);
        nft_ctx_buffer_error(c);
        if (nft_run_cmd_from_buffer(c, text) == 0)
                return 0;
        const char *msg = nft_ctx_get_error_buffer(c);
        char line[256];
        snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "failed");
        line[strcspn(line, "\n")] = 0;
        if (strstr(line, "Operation not supported") || strstr(line, "Protocol not supported"))
                return berth_err_set(err, EOPNOTSUPP,
                                     "%s: nftables refused the filter (%s): this host needs nf_tables "
                                     "(netdev and inet families), or the VPS --no-filter",
                                     what, line);
        return berth_err_set(err, EIO, "%s: nftables: %s", what, line);
}

int berth_nft_guest_apply(const struct berth_nft_guest *g, struct berth_err *err)
{
        if (!berth_ifname_valid(g->host_if) || !berth_ifname_valid(g->host_side))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        _cleanup_free_ char *text = berth_nft_guest_script(g);
        if (!text)
                return berth_err_set(err, ENOMEM, "network filter %s: out of memory", g->host_if);
        char what[64];
        snprintf(what, sizeof(what), "network filter %s", g->host_if);
        return run(text, what, err);
}

int berth_nft_guest_remove(const char *host_if, const char *host_side, struct berth_err *err)
{
        if (!berth_ifname_valid(host_if) || (host_side && !berth_ifname_valid(host_side)))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        /* "add" before "delete" in the same transaction: removing what is
         * not there succeeds, and nothing else is looked at. */
        char text[512];
        int n = snprintf(text, sizeof(text),
                         "add table netdev berth\nadd chain netdev berth %s\ndelete chain netdev berth %s\n",
                         host_if, host_if);
        if (host_side)
                snprintf(text + n, sizeof(text) - (size_t)n,
                         "add table inet berth\nadd set inet berth ifs { type ifname; }\n"
                         "add element inet berth ifs { \"%s\" }\ndelete element inet berth ifs { \"%s\" }\n",
                         host_side, host_side);
        char what[64];
        snprintf(what, sizeof(what), "remove network filter %s", host_if);
        return run(text, what, err);
}
