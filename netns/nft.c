/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VPS filters (see berth/nft.h for the tables). The tables and rules are
 * nft script text run through libnftables: the rules read like the
 * documentation, and libnftables does the set and dependency work (e.g.
 * "arp saddr ip" implies "ether type arp"). The per-VPS changes are netlink
 * messages (netns/nft_nl.c), cheap in the new process each start is.
 *
 * The rules are the same for every VPS and are made once, in the regular
 * chain "checks"; a VPS is elements of sets keyed by its host-side
 * interface name, and that name among the devices of the one ingress base
 * chain "guest", whose one rule jumps to "checks". So a start adds elements
 * and a device, which costs the same with 1 or 1000 VPS (an "add rule"
 * through libnftables would read the rules of every other VPS first).
 *
 * The kernel ties a netdev base chain to its devices: before Linux 6.16 it
 * deletes the chain, rules and all, when the last of them goes (every VPS
 * stopped, or on 6.1 the one VPS it was made for), and a later update that
 * names the chain makes it anew, empty. So no rule of a VPS's filter lives
 * in a base chain: each start sends the base chain's one rule again with
 * the device, in the same transaction, and the chain holds whatever
 * happened to it before. On older kernels (6.1) a chain takes no further
 * device (EEXIST): there each other VPS gets a base chain of its own on its
 * host end, "in_<host end>", made the same way. */

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
    "add chain netdev berth checks\n"
    "flush chain netdev berth checks\n"
    /* A VPS made --no-filter while running: its name stays among the
     * devices of "guest" (this nftables cannot take one out). */
    "add rule netdev berth checks iifname @unfiltered accept\n"
    "add rule netdev berth checks iifname . ether saddr != @macs counter drop\n"
    /* No VLAN tags, no other protocols: nothing the checks below miss. */
    "add rule netdev berth checks ether type != { arp, ip, ip6 } counter drop\n"
    "add rule netdev berth checks iifname . arp saddr ether != @macs counter drop\n"
    "add rule netdev berth checks iifname . arp saddr ip != @addr4 counter drop\n"
    /* A guest is no DHCP server and no router of its neighbours. */
    "add rule netdev berth checks udp sport { 67, 547 } counter drop\n"
    "add rule netdev berth checks icmpv6 type { nd-router-advert, nd-redirect } counter drop\n"
    "add rule netdev berth checks iifname . ip saddr != @addr4 counter drop\n"
    /* Neighbour advertisements and duplicate address detection (from ::)
     * only for its own addresses. */
    "add rule netdev berth checks icmpv6 type nd-neighbor-advert iifname . @th,64,128 != @ndtarget counter "
    "drop\n"
    "add rule netdev berth checks ip6 saddr :: icmpv6 type nd-neighbor-solicit iifname . @th,64,128 != "
    "@ndtarget counter drop\n"
    "add rule netdev berth checks ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } "
    "accept\n"
    "add rule netdev berth checks iifname . ip6 saddr != @addr6 counter drop\n";

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
        bool own; /* a base chain of its own (kernels like 6.1) */
};

/* A guest's own base chain: "in_" and its host end (at most 15 bytes). */
#define CHAIN_MAX (3 + 16)

static void chain_name(char out[CHAIN_MAX], const struct apply *x)
{
        if (x->own)
                snprintf(out, CHAIN_MAX, "in_%s", x->g->host_if);
        else
                snprintf(out, CHAIN_MAX, "guest");
}

static void put_apply(FILE *f, const void *data)
{
        const struct apply *x = data;
        /* Leftovers of the same guest (a crash, a start without the stop
         * before it) go in the same transaction. */
        put_remove(f, x->old ? x->old : x->g);
        put_elements(f, "add", x->g);
        const char *dev = x->g->host_if;
        fprintf(f,
                "add element netdev berth unfiltered { \"%s\" }\ndelete element netdev berth unfiltered { "
                "\"%s\" }\n",
                dev, dev);
        /* The base chain with its one rule, whatever was left of it. */
        char chain[CHAIN_MAX];
        chain_name(chain, x);
        fprintf(f,
                "add chain netdev berth %s { type filter hook ingress devices = { \"%s\" } priority 0; "
                "policy accept; }\nflush chain netdev berth %s\nadd rule netdev berth %s jump checks\n",
                chain, dev, chain, chain);
        fputs("flush set inet berth ports\n", f);
        for (size_t i = 0; i < x->g->n_ports; i++)
                fprintf(f, "add element inet berth ports { %s . %u }\n",
                        x->g->ports[i].proto == IPPROTO_TCP ? "tcp" : "udp", x->g->ports[i].port);
        fprintf(f, "add element inet berth ifs { \"%s\" }\n", x->g->host_side);
}

/* The same for every guest: data is unused. */
static void put_init(FILE *f, const void *data)
{
        (void)data;
        fputs(init_netdev, f);
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

/* The per-VPS changes are set elements and the guest's base chain: built
 * as netlink messages directly (netns/nft_nl.c), they cost ~0.3 ms in a new
 * process, where libnftables' first use costs ~4 ms (loading, context,
 * cache). The same transaction as the script text above (put_apply);
 * libnftables only makes the tables and rules (put_init). */

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

/* The base chain with its one rule, made whole whatever was left of it:
 * on the kernel's side a flush and a rule added to a chain in use are one
 * switch of its rules at commit, so frames never see it empty. */
static int batch_chain(struct nft_batch *b, const struct apply *x)
{
        char chain[CHAIN_MAX];
        chain_name(chain, x);
        int r = nft_batch_chain_hook(b, chain, x->g->host_if);
        if (r >= 0)
                r = nft_batch_chain_flush(b, chain);
        return r < 0 ? r : nft_batch_rule_jump(b, chain, "checks");
}

/* The guest's own base chain gone, whether or not it was there: made (as a
 * regular chain) when missing, then deleted, in the same transaction. */
static int batch_own_remove(struct nft_batch *b, const char *host_if)
{
        char chain[CHAIN_MAX];
        snprintf(chain, sizeof(chain), "in_%s", host_if);
        int r = nft_batch_chain_add(b, chain);
        return r < 0 ? r : nft_batch_chain_del(b, chain);
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
                r = batch_chain(b, x);
        if (r >= 0)
                r = nft_batch_set_flush(b, BERTH_NFT_INET, "ports");
        for (size_t i = 0; i < g->n_ports && r >= 0; i++) {
                struct berth_nft_elem e;
                berth_nft_elem_port(&e, &g->ports[i]);
                r = nft_batch_elem_add(b, &e);
        }
        return r < 0 ? r : batch_ifname(b, BERTH_NFT_INET, "ifs", g->host_side, false);
}

/* Its own chain goes too (with no elements, it would drop everything). */
static int batch_remove(struct nft_batch *b, const struct apply *x)
{
        int r = batch_elements(b, x->g, false);
        if (r >= 0)
                r = batch_own_remove(b, x->g->host_if);
        if (r >= 0 && x->g->host_side)
                r = batch_ifname(b, BERTH_NFT_INET, "ifs", x->g->host_side, true);
        return r;
}

/* Passed by "checks" (its name may stay among the devices of "guest"),
 * and no chain of its own. */
static int batch_open(struct nft_batch *b, const struct apply *x)
{
        int r = batch_ifname(b, BERTH_NFT_NETDEV, "unfiltered", x->g->host_if, false);
        return r < 0 ? r : batch_own_remove(b, x->g->host_if);
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

/* The batch of put_apply; where the kernel cannot add the device to
 * "guest" (older kernels, 6.1: EEXIST, and nothing of the batch applied), the
 * same with a base chain of its own. */
static int apply_batch(struct apply *x, const char *what, struct berth_err *err)
{
        x->own = false;
        int r = run_batch(batch_apply, x, what, err);
        if (r != -EEXIST)
                return r;
        berth_err_clear(err);
        x->own = true;
        return run_batch(batch_apply, x, what, err);
}

int berth_nft_guest_apply(const struct berth_nft_guest *g, const struct berth_nft_guest *old,
                          struct berth_err *err)
{
        if (!names_valid(g) || !g->host_side || (old && !names_valid(old)))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        char what[64];
        snprintf(what, sizeof(what), "network filter %s", g->host_if);
        struct apply x = {.g = g, .old = old};
        int r = apply_batch(&x, what, err);
        if (r != -ENOENT)
                return r;
        /* The first VPS (or berth's tables were deleted, or an upgrade added
         * a set or chain): make them, with libnftables (its errors say what
         * failed), and send the batch again. */
        berth_err_clear(err);
        r = run_script(put_init, &x, what, err);
        return r < 0 ? r : apply_batch(&x, what, err);
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

static int batch_ifs_remove(struct nft_batch *b, const struct apply *x)
{
        return batch_ifname(b, BERTH_NFT_INET, "ifs", x->g->host_side, true);
}

int berth_nft_ifs_remove(const char *ifname, struct berth_err *err)
{
        if (!berth_ifname_valid(ifname))
                return berth_err_set(err, EINVAL, "network filter: invalid interface name");
        char what[64];
        snprintf(what, sizeof(what), "remove %s from the filter", ifname);
        struct berth_nft_guest g = {.host_if = ifname, .host_side = ifname};
        struct apply x = {.g = &g};
        int r = run_batch(batch_ifs_remove, &x, what, err);
        /* No tables (or no nf_tables at all): nothing to remove. */
        return r == -ENOENT || r == -EOPNOTSUPP ? (berth_err_clear(err), 0) : r;
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

int nft_run_text(const char *text, const char *what, struct berth_err *err)
{
        return run(text, what, err);
}
