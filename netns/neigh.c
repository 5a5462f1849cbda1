/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Neighbour proxy entries ("ip neigh add proxy ADDR dev IF"): the host
 * answers ARP requests and IPv6 neighbour solicitations for a guest address
 * on an interface the guest is not on. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "berth/netns.h"

static struct nlmsghdr *proxy_msg(struct berth_nl *nl, uint16_t type, uint16_t flags, int ifindex,
                                  const struct berth_ip_addr *a)
{
        struct nlmsghdr *nlh = berth_nl_msg(nl, type, flags, sizeof(struct ndmsg));
        struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
        ndm->ndm_family = (unsigned char)a->family;
        ndm->ndm_ifindex = ifindex;
        ndm->ndm_flags = NTF_PROXY;
        if (type == RTM_NEWNEIGH)
                ndm->ndm_state = NUD_PERMANENT;
        mnl_attr_put(nlh, NDA_DST, berth_ip_addr_len(a), a->u.raw);
        return nlh;
}

static int proxy_change(struct berth_nl *nl, uint16_t type, const char *ifname, const struct berth_ip_addr *a,
                        struct berth_err *err)
{
        char text[BERTH_IP_ADDR_STRLEN];
        const char *op = type == RTM_NEWNEIGH ? "add" : "delete";
        if (!a || (a->family != AF_INET && a->family != AF_INET6))
                return berth_err_set(err, EAFNOSUPPORT, "%s proxy entry on %s: no address family", op,
                                     ifname);
        berth_ip_addr_format(a, false, text, sizeof(text));
        int index = berth_link_index(nl, ifname, err);
        if (index < 0)
                return berth_err_wrap(err, "%s proxy entry %s on %s", op, text, ifname);
        uint16_t flags = type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0;
        int r = berth_nl_call(nl, proxy_msg(nl, type, flags, index, a));
        if (r < 0)
                return berth_nl_fail(nl, err, r, "%s proxy entry %s on %s", op, text, ifname);
        return 0;
}

int berth_neigh_proxy_add(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                          struct berth_err *err)
{
        return proxy_change(nl, RTM_NEWNEIGH, ifname, a, err);
}

int berth_neigh_proxy_del(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                          struct berth_err *err)
{
        return proxy_change(nl, RTM_DELNEIGH, ifname, a, err);
}

struct proxy_find {
        int ifindex;
        const struct berth_ip_addr *a;
        bool found;
};

static int proxy_find_cb(const struct nlmsghdr *nlh, void *data)
{
        struct proxy_find *pf = data;
        const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWNEIGH || !(ndm->ndm_flags & NTF_PROXY) ||
            ndm->ndm_family != pf->a->family || (pf->ifindex && ndm->ndm_ifindex != pf->ifindex))
                return MNL_CB_OK;
        struct nlattr *attr;
        mnl_attr_for_each(attr, nlh, sizeof(*ndm))
        {
                if (mnl_attr_get_type(attr) == NDA_DST &&
                    mnl_attr_get_payload_len(attr) == berth_ip_addr_len(pf->a) &&
                    memcmp(mnl_attr_get_payload(attr), pf->a->u.raw, berth_ip_addr_len(pf->a)) == 0)
                        pf->found = true;
        }
        return MNL_CB_OK;
}

int berth_neigh_proxy_exists(struct berth_nl *nl, int ifindex, const struct berth_ip_addr *a,
                             struct berth_err *err)
{
        struct proxy_find pf = {ifindex, a, false};
        struct nlmsghdr *nlh = berth_nl_msg(nl, RTM_GETNEIGH, 0, sizeof(struct ndmsg));
        struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
        ndm->ndm_family = (unsigned char)a->family;
        ndm->ndm_flags = NTF_PROXY; /* dump the proxy table, not the cache */
        int r = berth_nl_dump(nl, nlh, proxy_find_cb, &pf);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "list proxy entries");
        return pf.found;
}
