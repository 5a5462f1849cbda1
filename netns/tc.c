// SPDX-License-Identifier: GPL-2.0-or-later
/* Bandwidth limits on a VPS's host end, through tc over rtnetlink.
 *
 * What leaves the host end goes to the guest: a TBF as its root qdisc
 * shapes the guest's inbound traffic. What the guest sends arrives on the
 * host end's ingress, where nothing can queue; shaping it on the guest's
 * own end would be undone by the guest's root (CAP_NET_ADMIN in its
 * netns), and this kernel has no police action (nor flower or matchall).
 * So each frame, once berth's netdev filter has passed it, goes to an IFB
 * device of the host whose root is a TBF (netns/nft_fwd.c): real shaping
 * (TCP sees delay, not loss); the IFB gives the frame back to the host
 * end's receive path. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "berth/netns.h"
#include "netns/nft_nl.h"

static struct nlmsghdr *tc_msg(struct berth_nl *nl, uint16_t type, uint16_t flags, int ifindex,
                               uint32_t parent, uint32_t handle)
{
        struct nlmsghdr *nlh = berth_nl_msg(nl, type, flags, sizeof(struct tcmsg));
        struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
        t->tcm_family = AF_UNSPEC;
        t->tcm_ifindex = ifindex;
        t->tcm_parent = parent;
        t->tcm_handle = handle;
        return nlh;
}

/* Burst: 10 ms at the rate, at least 32 KiB (GSO frames of 64 KiB are cut
 * to it by TBF); queue: 100 ms, at least two bursts. */
static void tbf_sizes(uint64_t bytes_per_s, uint32_t *burst, uint32_t *limit)
{
        uint64_t b = bytes_per_s / 100, l = bytes_per_s / 10;
        if (b < 32 * 1024)
                b = 32 * 1024;
        if (b > UINT32_MAX / 4)
                b = UINT32_MAX / 4;
        if (l < 2 * b)
                l = 2 * b;
        if (l > UINT32_MAX)
                l = UINT32_MAX;
        *burst = (uint32_t)b;
        *limit = (uint32_t)l;
}

static int tbf_replace(struct berth_nl *nl, const char *ifname, int ifindex, uint64_t bps,
                       struct berth_err *err)
{
        uint64_t bytes = bps / 8;
        struct tc_tbf_qopt q = {0};
        uint32_t burst;
        tbf_sizes(bytes, &burst, &q.limit);
        q.rate.linklayer = TC_LINKLAYER_ETHERNET; /* no rate table needed */
        q.rate.rate = bytes >= UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
        struct nlmsghdr *nlh =
            tc_msg(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, TC_H_ROOT, 0x10000u);
        mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
        struct nlattr *opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
        mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
        if (bytes >= UINT32_MAX)
                mnl_attr_put_u64(nlh, TCA_TBF_RATE64, bytes);
        mnl_attr_put_u32(nlh, TCA_TBF_BURST, burst);
        mnl_attr_nest_end(nlh, opts);
        int r = berth_nl_call(nl, nlh);
        return r < 0 ? berth_nl_fail(nl, err, r, "rate limit on %s (tbf)", ifname) : 0;
}

static int qdisc_del(struct berth_nl *nl, const char *ifname, int ifindex, uint32_t parent,
                     struct berth_err *err)
{
        int r = berth_nl_call(nl, tc_msg(nl, RTM_DELQDISC, 0, ifindex, parent, 0));
        /* None there: ENOENT, or EINVAL for the default root qdisc. */
        if (r == -ENOENT || r == -EINVAL)
                return 0;
        return r < 0 ? berth_nl_fail(nl, err, r, "remove the rate limit of %s", ifname) : 0;
}

static int ifb_ensure(struct berth_nl *nl, const char *ifb, struct berth_err *err)
{
        int idx = berth_link_index(nl, ifb, err);
        if (idx != -ENODEV)
                return idx;
        berth_err_clear(err);
        int r = berth_link_add_ifb(nl, ifb, err);
        if (r >= 0)
                r = berth_link_set_up(nl, ifb, true, err);
        return r < 0 ? r : berth_link_index(nl, ifb, err);
}

/* The guest's outbound: through the IFB's TBF, handed over by an
 * nftables chain after berth's filter (netns/nft_fwd.c). */
static int rate_out(struct berth_nl *nl, const char *ifname, const char *ifb, uint64_t bps,
                    struct berth_err *err)
{
        if (!bps)
                return berth_tc_ifb_remove(nl, ifname, ifb, err);
        int ifb_index = ifb_ensure(nl, ifb, err);
        if (ifb_index < 0)
                return ifb_index;
        int r = tbf_replace(nl, ifb, ifb_index, bps, err);
        return r < 0 ? r : nft_fwd_set(ifname, ifb, err);
}

int berth_tc_rate_set(struct berth_nl *nl, const char *ifname, const char *ifb, uint64_t in_bps,
                      uint64_t out_bps, struct berth_err *err)
{
        if (!berth_ifname_valid(ifname) || !berth_ifname_valid(ifb))
                return berth_err_set(err, EINVAL, "rate limit: invalid interface name");
        int ifindex = berth_link_index(nl, ifname, err);
        if (ifindex < 0)
                return ifindex;
        int r = in_bps ? tbf_replace(nl, ifname, ifindex, in_bps, err)
                       : qdisc_del(nl, ifname, ifindex, TC_H_ROOT, err);
        if (r >= 0)
                r = rate_out(nl, ifname, ifb, out_bps, err);
        return r;
}

int berth_tc_ifb_remove(struct berth_nl *nl, const char *ifname, const char *ifb, struct berth_err *err)
{
        /* The chain is made after the IFB: without the IFB, no chain. */
        int r = berth_link_index(nl, ifb, err);
        if (r >= 0)
                r = nft_fwd_remove(ifname, err);
        if (r >= 0)
                r = berth_link_del(nl, ifb, err);
        if (r == -ENODEV) {
                berth_err_clear(err);
                return 0;
        }
        return r;
}

/* ---- counters ----------------------------------------------------------- */

struct stats_req {
        int ifindex;
        struct berth_tc_stats *st;
};

static int tbf_opts_cb(const struct nlattr *attr, void *data)
{
        struct berth_tc_stats *st = data;
        if (mnl_attr_get_type(attr) == TCA_TBF_PARMS &&
            mnl_attr_get_payload_len(attr) >= sizeof(struct tc_tbf_qopt)) {
                const struct tc_tbf_qopt *q = mnl_attr_get_payload(attr);
                if (!st->bps)
                        st->bps = (uint64_t)q->rate.rate * 8;
        } else if (mnl_attr_get_type(attr) == TCA_TBF_RATE64 && mnl_attr_validate(attr, MNL_TYPE_U64) == 0) {
                st->bps = mnl_attr_get_u64(attr) * 8;
        }
        return MNL_CB_OK;
}

static int stats2_cb(const struct nlattr *attr, void *data)
{
        struct berth_tc_stats *st = data;
        size_t len = mnl_attr_get_payload_len(attr);
        if (mnl_attr_get_type(attr) == TCA_STATS_BASIC && len >= sizeof(struct gnet_stats_basic)) {
                struct gnet_stats_basic b;
                memcpy(&b, mnl_attr_get_payload(attr), sizeof(b));
                st->bytes = b.bytes;
                st->packets = b.packets;
        } else if (mnl_attr_get_type(attr) == TCA_STATS_QUEUE && len >= sizeof(struct gnet_stats_queue)) {
                struct gnet_stats_queue q;
                memcpy(&q, mnl_attr_get_payload(attr), sizeof(q));
                st->drops = q.drops;
                st->overlimits = q.overlimits;
        }
        return MNL_CB_OK;
}

struct qdisc_attrs {
        char kind[16];
        const struct nlattr *opts, *stats2;
};

static int qdisc_attr_cb(const struct nlattr *attr, void *data)
{
        struct qdisc_attrs *a = data;
        switch (mnl_attr_get_type(attr)) {
        case TCA_KIND:
                if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
                        snprintf(a->kind, sizeof(a->kind), "%s", mnl_attr_get_str(attr));
                break;
        case TCA_OPTIONS:
                a->opts = attr;
                break;
        case TCA_STATS2:
                a->stats2 = attr;
                break;
        }
        return MNL_CB_OK;
}

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
        struct stats_req *q = data;
        const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWQDISC || t->tcm_ifindex != q->ifindex || t->tcm_parent != TC_H_ROOT)
                return MNL_CB_OK;
        struct qdisc_attrs a = {0};
        mnl_attr_parse(nlh, sizeof(*t), qdisc_attr_cb, &a);
        if (strcmp(a.kind, "tbf") != 0)
                return MNL_CB_OK;
        q->st->limited = true;
        if (a.opts)
                mnl_attr_parse_nested(a.opts, tbf_opts_cb, q->st);
        if (a.stats2)
                mnl_attr_parse_nested(a.stats2, stats2_cb, q->st);
        return MNL_CB_OK;
}

static int root_stats(struct berth_nl *nl, const char *ifname, struct berth_tc_stats *st,
                      struct berth_err *err)
{
        memset(st, 0, sizeof(*st));
        int ifindex = berth_link_index(nl, ifname, err);
        if (ifindex == -ENODEV) {
                berth_err_clear(err);
                return 0; /* no IFB: no outbound limit */
        }
        if (ifindex < 0)
                return ifindex;
        struct stats_req q = {ifindex, st};
        int r = berth_nl_dump(nl, tc_msg(nl, RTM_GETQDISC, 0, ifindex, 0, 0), qdisc_cb, &q);
        return r < 0 ? berth_nl_fail(nl, err, r, "read the qdiscs of %s", ifname) : 0;
}

int berth_tc_rate_stats(struct berth_nl *nl, const char *ifname, const char *ifb, struct berth_tc_stats *in,
                        struct berth_tc_stats *out, struct berth_err *err)
{
        int r = berth_link_index(nl, ifname, err);
        if (r >= 0)
                r = root_stats(nl, ifname, in, err);
        return r < 0 ? r : root_stats(nl, ifb, out, err);
}
