/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VPS filters (see berth/nft.h for the tables). The tables and rules are
 * nft script text run through libnftables: the rules read like the
 * documentation, and libnftables does the set and dependency work (e.g.
 * "arp saddr ip" implies "ether type arp"). The per-VPS changes are netlink
 * messages (netns/nft_nl.c), cheap in the new process each start is.
 *
 * The rules are the same for every VPS and are made once; a VPS is only
 * elements of sets keyed by its host-side interface name, and that name
 * among the devices of the one ingress chain. So a start adds elements and
 * a device, which libnftables does without reading the rules of every other
 * VPS first (an "add rule" would: its cost grows with the number of VPS). */

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "berth/cleanup.h"
#include "berth/nft.h"
#include "netns/nft_nl.h"

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

/* ---- the shared part: tables, sets, rules ------------------------------------ */

/* Every check of a frame from a guest, keyed by the interface it came in
 * on. ND and DAD targets are raw payload (offset 8 of the ICMPv6 header):
 * this nftables has no "icmpv6 taddr". */
static const char init_netdev[] =
    "add table netdev berth\n"
    "add set netdev berth macs { type ifname . ether_addr; }\n"
    "add set netdev berth addr4 { type ifname . ipv4_addr; }\n"
    "add set netdev berth addr6 { type ifname . ipv6_addr; }\n"
    "add set netdev berth ndtarget { typeof iifname . @th,64,128; }\n"
    "add set netdev berth unfiltered { type ifname; }\n"
    "add chain netdev berth guest { type filter hook ingress devices = { \"%s\" } priority 0; policy accept; "
    "}\n"
    "flush chain netdev berth guest\n"
    /* A VPS made --no-filter after it had a filter: its name stays among
     * the chain's devices (this nftables cannot take one out). */
    "add rule netdev berth guest iifname @unfiltered accept\n"
    "add rule netdev berth guest iifname . ether saddr != @macs counter drop\n"
    /* No VLAN tags, no other protocols: nothing the checks below miss. */
    "add rule netdev berth guest ether type != { arp, ip, ip6 } counter drop\n"
    "add rule netdev berth guest iifname . arp saddr ether != @macs counter drop\n"
    "add rule netdev berth guest iifname . arp saddr ip != @addr4 counter drop\n"
    /* A guest is no DHCP server and no router of its neighbours. */
    "add rule netdev berth guest udp sport { 67, 547 } counter drop\n"
    "add rule netdev berth guest icmpv6 type { nd-router-advert, nd-redirect } counter drop\n"
    "add rule netdev berth guest iifname . ip saddr != @addr4 counter drop\n"
    /* Neighbour advertisements and duplicate address detection (from ::)
     * only for its own addresses. */
    "add rule netdev berth guest icmpv6 type nd-neighbor-advert iifname . @th,64,128 != @ndtarget counter "
    "drop\n"
    "add rule netdev berth guest ip6 saddr :: icmpv6 type nd-neighbor-solicit iifname . @th,64,128 != "
    "@ndtarget "
    "counter drop\n"
    "add rule netdev berth guest ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } "
    "accept\n"
    "add rule netdev berth guest iifname . ip6 saddr != @addr6 counter drop\n";

/* The host's own addresses, from guest-facing interfaces. */
static const char init_inet[] =
    "add table inet berth\n"
    "add set inet berth ifs { type ifname; }\n"
    "add set inet berth ports { type inet_proto . inet_service; }\n"
    "add chain inet berth input { type filter hook input priority 0; policy accept; }\n"
    "add chain inet berth guest_in\n"
    "flush chain inet berth input\n"
    "flush chain inet berth guest_in\n"
    "add rule inet berth input iifname @ifs jump guest_in\n"
    "add rule inet berth guest_in ct state established,related accept\n"
    "add rule inet berth guest_in icmp type echo-request accept\n"
    "add rule inet berth guest_in icmpv6 type { echo-request, nd-neighbor-solicit, nd-neighbor-advert, "
    "nd-router-solicit, mld-listener-report, mld2-listener-report } accept\n"
    "add rule inet berth guest_in meta l4proto . th dport @ports accept\n"
    "add rule inet berth guest_in counter drop\n";

/* ---- one guest: elements ----------------------------------------------------------- */

static void put_hex(FILE *f, const struct berth_ip_addr *a)
{
        fputs("0x", f);
        for (size_t k = 0; k < 16; k++)
                fprintf(f, "%02x", a->u.v6.s6_addr[k]);
}

/* verb ("add"/"delete") every element of g. */
static void put_elements(FILE *f, const char *verb, const struct berth_nft_guest *g)
{
        const char *i = g->host_if;
        const unsigned char *m = g->mac;
        fprintf(f, "%s element netdev berth macs { \"%s\" . %02x:%02x:%02x:%02x:%02x:%02x }\n", verb, i, m[0],
                m[1], m[2], m[3], m[4], m[5]);
        struct berth_ip_addr ll;
        berth_nft_mac_link_local(g->mac, &ll);
        for (size_t k = 0; k <= g->n_addrs; k++) {
                const struct berth_ip_addr *a = k < g->n_addrs ? &g->addrs[k] : &ll;
                char buf[BERTH_IP_ADDR_STRLEN];
                const char *set = a->family == AF_INET ? "addr4" : "addr6";
                fprintf(f, "%s element netdev berth %s { \"%s\" . %s }\n", verb, set, i,
                        berth_ip_addr_format(a, false, buf, sizeof(buf)));
                if (a->family != AF_INET6)
                        continue;
                fprintf(f, "%s element netdev berth ndtarget { \"%s\" . ", verb, i);
                put_hex(f, a);
                fputs(" }\n", f);
        }
}

/* Removing what may not be there: "add" first, in the same transaction. */
static void put_remove(FILE *f, const struct berth_nft_guest *g)
{
        put_elements(f, "add", g);
        put_elements(f, "delete", g);
}

struct apply {
        const struct berth_nft_guest *g, *old;
};

static void put_apply(FILE *f, const void *data)
{
        const struct apply *x = data;
        /* Leftovers of the same guest (a crash, a start without the stop
         * before it) go in the same transaction. */
        put_remove(f, x->old ? x->old : x->g);
        put_elements(f, "add", x->g);
        fprintf(f,
                "add element netdev berth unfiltered { \"%s\" }\ndelete element netdev berth unfiltered { "
                "\"%s\" }\n",
                x->g->host_if, x->g->host_if);
        fprintf(f,
                "add chain netdev berth guest { type filter hook ingress devices = { \"%s\" } priority 0; "
                "policy accept; }\n",
                x->g->host_if);
        fputs("flush set inet berth ports\n", f);
        for (size_t i = 0; i < x->g->n_ports; i++)
                fprintf(f, "add element inet berth ports { %s . %u }\n",
                        x->g->ports[i].proto == IPPROTO_TCP ? "tcp" : "udp", x->g->ports[i].port);
        fprintf(f, "add element inet berth ifs { \"%s\" }\n", x->g->host_side);
}

/* Kernels before 6.2 cannot add a device to an existing netdev base
 * chain (EEXIST): there each guest gets a base chain of its own on its
 * host end, "in_<host end>", with the guest chain's rules (they match by
 * interface name, so the same text serves). Everything else as put_apply. */
static void put_apply_own_chain(FILE *f, const void *data)
{
        const struct apply *x = data;
        const char *name = x->g->host_if;
        put_remove(f, x->old ? x->old : x->g);
        put_elements(f, "add", x->g);
        fprintf(f,
                "add element netdev berth unfiltered { \"%s\" }\ndelete element netdev berth unfiltered { "
                "\"%s\" }\n",
                name, name);
        /* Made anew each time: a chain left from the last start holds the
         * hook of a device that is gone. */
        static const char chain[] = "add chain netdev berth in_%s { type filter hook ingress device \"%s\" "
                                    "priority 0; policy accept; }\n";
        fprintf(f, chain, name, name);
        fprintf(f, "flush chain netdev berth in_%s\ndelete chain netdev berth in_%s\n", name, name);
        fprintf(f, chain, name, name);
        static const char prefix[] = "add rule netdev berth guest ";
        for (const char *l = strstr(init_netdev, prefix); l; l = strstr(l + 1, prefix)) {
                const char *end = strchr(l, '\n');
                fprintf(f, "add rule netdev berth in_%s %.*s\n", name, (int)(end - l - (sizeof(prefix) - 1)),
                        l + sizeof(prefix) - 1);
        }
        fputs("flush set inet berth ports\n", f);
        for (size_t i = 0; i < x->g->n_ports; i++)
                fprintf(f, "add element inet berth ports { %s . %u }\n",
                        x->g->ports[i].proto == IPPROTO_TCP ? "tcp" : "udp", x->g->ports[i].port);
        fprintf(f, "add element inet berth ifs { \"%s\" }\n", x->g->host_side);
}

static void put_init(FILE *f, const void *data)
{
        const struct apply *x = data;
        fprintf(f, init_netdev, x->g->host_if);
        fputs(init_inet, f);
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

char *berth_nft_guest_script(const struct berth_nft_guest *g)
{
        struct apply x = {.g = g};
        _cleanup_free_ char *init = script(put_init, &x);
        _cleanup_free_ char *apply = script(put_apply, &x);
        char *all = NULL;
        if (init && apply && asprintf(&all, "%s%s", init, apply) < 0)
                all = NULL;
        return all;
}

/* ---- running it ------------------------------------------------------------------- */

/* libnftables is dlopen()ed by the commands that filter (vps start, set,
 * stop, destroy): linked, it and its libraries (libnftnl, libxtables,
 * libgmp) would be loaded by every berth-full command, ~0.3 ms each.
 * Process-wide by nature, like runtime/vps/template/archive_dl.c: written
 * once, before first use, then only read. */
static struct {
        struct nft_ctx *(*ctx_new)(uint32_t flags);
        void (*ctx_free)(struct nft_ctx *ctx);
        int (*buffer_output)(struct nft_ctx *ctx);
        int (*buffer_error)(struct nft_ctx *ctx);
        const char *(*get_error_buffer)(struct nft_ctx *ctx);
        int (*run_cmd_from_buffer)(struct nft_ctx *nft, const char *buf);
} nft;

static int nft_load(const char *what, struct berth_err *err)
{
        if (nft.run_cmd_from_buffer)
                return 0;
        void *lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return berth_err_set(err, EOPNOTSUPP,
                                     "%s: cannot load libnftables.so.1 (install libnftables1), or the VPS "
                                     "--no-filter: %s",
                                     what, dlerror());
        void *f[6];
        static const char *const names[6] = {"nft_ctx_new",
                                             "nft_ctx_free",
                                             "nft_ctx_buffer_output",
                                             "nft_ctx_buffer_error",
                                             "nft_ctx_get_error_buffer",
                                             "nft_run_cmd_from_buffer"};
        for (size_t i = 0; i < 6; i++)
                if (!(f[i] = dlsym(lib, names[i]))) {
                        dlclose(lib);
                        return berth_err_set(err, ELIBBAD, "%s: libnftables: missing symbol %s", what,
                                             names[i]);
                }
        /* POSIX lets a function pointer round-trip through void *. */
        memcpy(&nft.ctx_new, &f[0], sizeof(f[0]));
        memcpy(&nft.ctx_free, &f[1], sizeof(f[1]));
        memcpy(&nft.buffer_output, &f[2], sizeof(f[2]));
        memcpy(&nft.buffer_error, &f[3], sizeof(f[3]));
        memcpy(&nft.get_error_buffer, &f[4], sizeof(f[4]));
        memcpy(&nft.run_cmd_from_buffer, &f[5], sizeof(f[5]));
        return 0;
}

static void nft_ctx_freep(struct nft_ctx **c)
{
        if (*c)
                nft.ctx_free(*c);
}

/* Runs text as one transaction; nft's first error line goes into err. */
static int run(const char *text, const char *what, struct berth_err *err)
{
        int r = nft_load(what, err);
        if (r < 0)
                return r;
        __attribute__((cleanup(nft_ctx_freep))) struct nft_ctx *c = nft.ctx_new(NFT_CTX_DEFAULT);
        if (!c)
                return berth_err_set(err, ENOMEM, "%s: nftables context", what);
        nft.buffer_output(c);
        nft.buffer_error(c);
        if (nft.run_cmd_from_buffer(c, text) == 0)
                return 0;
        const char *msg = nft.get_error_buffer(c);
        char line[256];
        snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "failed");
        line[strcspn(line, "\n")] = 0;
        if (strstr(line, "Operation not supported") || strstr(line, "Protocol not supported"))
                return berth_err_set(err, EOPNOTSUPP,
                                     "%s: nftables refused the filter (%s): this host needs nf_tables "
                                     "(netdev and inet families), or the VPS --no-filter",
                                     what, line);
        if (strstr(line, "No such file or directory"))
                return berth_err_set(err, ENOENT, "%s: nftables: %s", what, line);
        return berth_err_set(err, EIO, "%s: nftables: %s", what, line);
}

static int run_script(void (*put)(FILE *, const void *), const struct apply *x, const char *what,
                      struct berth_err *err)
{
        _cleanup_free_ char *text = script(put, x);
        if (!text)
                return berth_err_set(err, ENOMEM, "%s: out of memory", what);
        return run(text, what, err);
}

static bool names_valid(const struct berth_nft_guest *g)
{
        return berth_ifname_valid(g->host_if) && (!g->host_side || berth_ifname_valid(g->host_side));
}

/* ---- the per-VPS changes: one netlink batch ------------------------------------ */

/* The per-VPS changes are set elements and a hook device: built as netlink
 * messages directly (netns/nft_nl.c), they cost ~0.3 ms in a new process,
 * where libnftables' first use costs ~4 ms (loading, context, cache). The
 * same transaction as the script text above (put_apply); libnftables only
 * makes the tables and rules (put_init). */

static void nft_batch_freep(struct nft_batch **b)
{
        nft_batch_free(*b);
}

/* Adds (add) or removes what may not be there (!add: "add" first, in the
 * same transaction) every element of g. */
static int batch_elements(struct nft_batch *b, const struct berth_nft_guest *g, bool add)
{
        _cleanup_free_ struct berth_nft_elem *e = calloc(BERTH_NFT_GUEST_ELEMS(g->n_addrs), sizeof(*e));
        if (!e)
                return -ENOMEM;
        size_t n = berth_nft_guest_elems(g, e);
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = nft_batch_elem_add(b, &e[i]);
        for (size_t i = 0; i < n && r >= 0 && !add; i++)
                r = nft_batch_elem_del(b, &e[i]);
        return r;
}

/* elem added, then (del) deleted again. */
static int batch_ifname(struct nft_batch *b, uint8_t family, const char *set, const char *ifname, bool del)
{
        struct berth_nft_elem e;
        berth_nft_elem_ifname(&e, family, set, ifname);
        int r = nft_batch_elem_add(b, &e);
        return r < 0 || !del ? r : nft_batch_elem_del(b, &e);
}

static int batch_apply(struct nft_batch *b, const struct apply *x)
{
        const struct berth_nft_guest *g = x->g;
        /* Leftovers of the same guest (a crash, a start without the stop
         * before it) go in the same transaction. */
        int r = batch_elements(b, x->old ? x->old : g, false);
        if (r >= 0)
                r = batch_elements(b, g, true);
        if (r >= 0)
                r = batch_ifname(b, BERTH_NFT_NETDEV, "unfiltered", g->host_if, true);
        if (r >= 0)
                r = nft_batch_hook_dev(b, g->host_if);
        if (r >= 0)
                r = nft_batch_set_flush(b, BERTH_NFT_INET, "ports");
        for (size_t i = 0; i < g->n_ports && r >= 0; i++) {
                struct berth_nft_elem e;
                berth_nft_elem_port(&e, &g->ports[i]);
                r = nft_batch_elem_add(b, &e);
        }
        return r < 0 ? r : batch_ifname(b, BERTH_NFT_INET, "ifs", g->host_side, false);
}

static int batch_remove(struct nft_batch *b, const struct apply *x)
{
        int r = batch_elements(b, x->g, false);
        if (r >= 0 && x->g->host_side)
                r = batch_ifname(b, BERTH_NFT_INET, "ifs", x->g->host_side, true);
        return r;
}

static int batch_open(struct nft_batch *b, const struct apply *x)
{
        return batch_ifname(b, BERTH_NFT_NETDEV, "unfiltered", x->g->host_if, false);
}

/* Builds and runs one batch; errors as run() reports them. */
static int run_batch(int (*build)(struct nft_batch *, const struct apply *), const struct apply *x,
                     const char *what, struct berth_err *err)
{
        __attribute__((cleanup(nft_batch_freep))) struct nft_batch *b = nft_batch_new();
        int r = b ? build(b, x) : -ENOMEM;
        if (r < 0)
                return berth_err_set(err, -r, "%s: out of memory", what);
        r = nft_batch_run(b);
        if (r >= 0)
                return 0;
        if (r == -EOPNOTSUPP || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT)
                return berth_err_set(err, EOPNOTSUPP,
                                     "%s: nftables refused the filter (%s): this host needs nf_tables "
                                     "(netdev and inet families), or the VPS --no-filter",
                                     what, strerror(-r));
        if (r == -ENOENT || r == -EEXIST)
                return berth_err_set(err, -r, "%s: nftables: %s", what, strerror(-r));
        return berth_err_set(err, EIO, "%s: nftables: %s", what, strerror(-r));
}

int berth_nft_guest_apply(const struct berth_nft_guest *g, const struct berth_nft_guest *old,
                          struct berth_err *err)
{
        if (!names_valid(g) || !g->host_side || (old && !names_valid(old)))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        char what[64];
        snprintf(what, sizeof(what), "network filter %s", g->host_if);
        struct apply x = {.g = g, .old = old};
        int r = run_batch(batch_apply, &x, what, err);
        if (r == -EEXIST) { /* before Linux 6.2: a chain of its own (above) */
                berth_err_clear(err);
                return run_script(put_apply_own_chain, &x, what, err);
        }
        if (r != -ENOENT)
                return r;
        /* The first VPS (or berth's tables were deleted, or an upgrade added
         * a set): make them, with libnftables; its errors say what failed. */
        berth_err_clear(err);
        r = run_script(put_init, &x, what, err);
        return r < 0 ? r : run_script(put_apply, &x, what, err);
}

int berth_nft_guest_remove(const struct berth_nft_guest *g, struct berth_err *err)
{
        if (!names_valid(g))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        char what[64];
        snprintf(what, sizeof(what), "remove network filter %s", g->host_if);
        struct apply x = {.g = g};
        int r = run_batch(batch_remove, &x, what, err);
        /* No tables: nothing of any guest to remove. */
        return r == -ENOENT ? (berth_err_clear(err), 0) : r;
}

int berth_nft_guest_open(const char *host_if, struct berth_err *err)
{
        if (!berth_ifname_valid(host_if))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        char what[64];
        snprintf(what, sizeof(what), "network filter %s", host_if);
        struct berth_nft_guest g = {.host_if = host_if};
        struct apply x = {.g = &g};
        int r = run_batch(batch_open, &x, what, err);
        /* No tables (or no nf_tables at all): nothing filters it. */
        return r == -ENOENT || r == -EOPNOTSUPP ? (berth_err_clear(err), 0) : r;
}
