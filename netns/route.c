/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Routes in the main table: add, delete, list. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "berth/netns.h"

/* "default via 10.0.0.1 dev eth0 onlink" / "10.0.0.2/32 dev bth1" */
static const char *route_text(const struct berth_route *r, char *buf, size_t len)
{
        char dst[BERTH_IP_ADDR_STRLEN] = "default", via[BERTH_IP_ADDR_STRLEN] = "";
        if (r->dst.prefixlen)
                berth_ip_addr_format(&r->dst, true, dst, sizeof(dst));
        if (r->via.family)
                berth_ip_addr_format(&r->via, false, via, sizeof(via));
        snprintf(buf, len, "%s%s%s%s%s%s", dst, via[0] ? " via " : "", via, r->dev ? " dev " : "",
                 r->dev ? r->dev : "", r->onlink ? " onlink" : "");
        return buf;
}

/* The kernel refuses a destination with host bits set. */
static void mask_prefix(struct berth_ip_addr *a)
{
        size_t len = berth_ip_addr_len(a);
        for (size_t i = 0; i < len; i++) {
                unsigned bits = i * 8 >= a->prefixlen ? 0 : a->prefixlen - i * 8;
                a->u.raw[i] &= bits >= 8 ? 0xff : (unsigned char)(0xff00 >> bits);
        }
}

static int check_route(const struct berth_route *r, bool del, struct berth_err *err)
{
        int f = r->dst.family;
        if (f != AF_INET && f != AF_INET6)
                return berth_err_set(err, EAFNOSUPPORT, "route without an address family");
        if (r->dst.prefixlen > (f == AF_INET ? 32 : 128))
                return berth_err_set(err, EINVAL, "route with invalid prefix length %u", r->dst.prefixlen);
        if (r->via.family && r->via.family != f)
                return berth_err_set(err, EINVAL, "route gateway of another address family");
        if (!r->via.family && !r->dev && !r->oif && !(del && r->protocol))
                return berth_err_set(err, EINVAL, "route needs a gateway or a device");
        return 0;
}

static struct nlmsghdr *route_msg(struct berth_nl *nl, uint16_t type, uint16_t flags,
                                  const struct berth_route *r, int oif)
{
        struct nlmsghdr *nlh = berth_nl_msg(nl, type, flags, sizeof(struct rtmsg));
        struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        rtm->rtm_family = (unsigned char)r->dst.family;
        rtm->rtm_dst_len = r->dst.prefixlen;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_type = RTN_UNICAST;
        if (type == RTM_NEWROUTE) {
                rtm->rtm_protocol = r->protocol ? r->protocol : RTPROT_STATIC;
                rtm->rtm_scope = r->via.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
        } else {
                rtm->rtm_scope = RT_SCOPE_NOWHERE; /* delete whatever the scope */
                rtm->rtm_protocol = r->protocol;   /* 0: whatever the protocol */
        }
        if (r->onlink)
                rtm->rtm_flags |= RTNH_F_ONLINK;
        if (r->dst.prefixlen) {
                struct berth_ip_addr dst = r->dst;
                mask_prefix(&dst);
                mnl_attr_put(nlh, RTA_DST, berth_ip_addr_len(&dst), dst.u.raw);
        }
        if (r->via.family)
                mnl_attr_put(nlh, RTA_GATEWAY, berth_ip_addr_len(&r->via), r->via.u.raw);
        if (oif > 0)
                mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
        return nlh;
}

static int route_change(struct berth_nl *nl, uint16_t type, uint16_t flags, const struct berth_route *r,
                        struct berth_err *err)
{
        char text[3 * BERTH_IP_ADDR_STRLEN];
        const char *op = type == RTM_NEWROUTE ? "add" : "delete";
        int rc = check_route(r, type == RTM_DELROUTE, err);
        if (rc < 0)
                return rc;
        int oif = r->oif;
        if (r->dev) {
                oif = berth_link_index(nl, r->dev, err);
                if (oif < 0)
                        return berth_err_wrap(err, "%s route %s", op, route_text(r, text, sizeof(text)));
        }
        rc = berth_nl_call(nl, route_msg(nl, type, flags, r, oif));
        if (rc < 0)
                return berth_nl_fail(nl, err, rc, "%s route %s", op, route_text(r, text, sizeof(text)));
        return 0;
}

int berth_route_add(struct berth_nl *nl, const struct berth_route *r, struct berth_err *err)
{
        return route_change(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, err);
}

int berth_route_del(struct berth_nl *nl, const struct berth_route *r, struct berth_err *err)
{
        return route_change(nl, RTM_DELROUTE, 0, r, err);
}

struct route_list {
        struct berth_route *out;
        size_t max;
        size_t n;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(attr);
        if (type == RTA_DST || type == RTA_GATEWAY || type == RTA_OIF || type == RTA_TABLE)
                tb[type] = attr;
        return MNL_CB_OK;
}

static void copy_addr(struct berth_ip_addr *a, int family, const struct nlattr *at)
{
        a->family = family;
        if (at && mnl_attr_get_payload_len(at) == berth_ip_addr_len(a))
                memcpy(a->u.raw, mnl_attr_get_payload(at), berth_ip_addr_len(a));
}

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
        struct route_list *l = data;
        const struct nlattr *tb[RTA_MAX + 1] = {NULL};
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_type != RTN_UNICAST)
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
        uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
        if (table != RT_TABLE_MAIN)
                return MNL_CB_OK;
        struct berth_route r = {.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0};
        copy_addr(&r.dst, rtm->rtm_family, tb[RTA_DST]);
        r.dst.prefixlen = rtm->rtm_dst_len;
        if (tb[RTA_GATEWAY])
                copy_addr(&r.via, rtm->rtm_family, tb[RTA_GATEWAY]);
        if (tb[RTA_OIF])
                r.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
        if (l->n < l->max)
                l->out[l->n] = r;
        l->n++;
        return MNL_CB_OK;
}

int berth_route_list(struct berth_nl *nl, int family, struct berth_route *out, size_t max,
                     struct berth_err *err)
{
        struct route_list l = {out, max, 0};
        struct nlmsghdr *nlh = berth_nl_msg(nl, RTM_GETROUTE, 0, sizeof(struct rtmsg));
        struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        rtm->rtm_family = (unsigned char)family;
        rtm->rtm_table = RT_TABLE_MAIN; /* honoured with strict checking */
        int r = berth_nl_dump(nl, nlh, route_list_cb, &l);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "list routes");
        return (int)l.n;
}

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct nlattr *tb[RTA_MAX + 1] = {NULL};
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWROUTE)
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
        if (tb[RTA_OIF])
                *(int *)data = (int)mnl_attr_get_u32(tb[RTA_OIF]);
        return MNL_CB_OK;
}

int berth_route_get_oif(struct berth_nl *nl, const struct berth_ip_addr *dst, struct berth_err *err)
{
        char text[BERTH_IP_ADDR_STRLEN];
        if (dst->family != AF_INET && dst->family != AF_INET6)
                return berth_err_set(err, EAFNOSUPPORT, "route lookup without an address family");
        struct nlmsghdr *nlh = berth_nl_msg(nl, RTM_GETROUTE, 0, sizeof(struct rtmsg));
        struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        rtm->rtm_family = (unsigned char)dst->family;
        rtm->rtm_dst_len = (unsigned char)(berth_ip_addr_len(dst) * 8);
        mnl_attr_put(nlh, RTA_DST, berth_ip_addr_len(dst), dst->u.raw);
        int oif = 0;
        int r = berth_nl_query(nl, nlh, route_get_cb, &oif);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "route lookup of %s",
                                     berth_ip_addr_format(dst, false, text, sizeof(text)));
        return oif;
}
