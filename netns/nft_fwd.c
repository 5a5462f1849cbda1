// SPDX-License-Identifier: GPL-2.0-or-later
/* What a guest sends, handed to its shaper (netns/tc.c) after berth's
 * filter has passed it: a base chain "rate_<host end>" of table netdev
 * berth on the host end's ingress at priority 10, after the filter's
 * chains (priority 0), whose one rule forwards each frame to the IFB
 * device. The IFB gives the frame back to the host end's receive path
 * marked to skip tc and the ingress hooks, so it is neither filtered nor
 * forwarded twice. A tc redirect on the ingress qdisc would come before
 * the filter (tc runs first) and the frame would never meet it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "netns/nft_nl.h"

/* Part of a chain name, unquoted: letters, digits, '_', '-', '.'. */
static bool plain(const char *name)
{
        return name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")] == 0;
}

int nft_fwd_set(const char *ifname, const char *ifb, struct berth_err *err)
{
        if (!plain(ifname) || !plain(ifb))
                return berth_err_set(err, EINVAL, "shape %s: interface names must be plain", ifname);
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text,
                     "add table netdev berth\n"
                     "add chain netdev berth rate_%s { type filter hook ingress device \"%s\" priority 10; "
                     "policy accept; }\n"
                     "flush chain netdev berth rate_%s\n"
                     "add rule netdev berth rate_%s fwd to \"%s\"\n",
                     ifname, ifname, ifname, ifname, ifb) < 0)
                return berth_err_set(err, ENOMEM, "out of memory");
        char what[64];
        snprintf(what, sizeof(what), "shape what %s sends", ifname);
        return nft_run_text(text, what, err);
}

static void nft_batch_freep(struct nft_batch **b)
{
        nft_batch_free(*b);
}

int nft_fwd_remove(const char *ifname, struct berth_err *err)
{
        char chain[32];
        snprintf(chain, sizeof(chain), "rate_%s", ifname);
        __attribute__((cleanup(nft_batch_freep))) struct nft_batch *b = nft_batch_new();
        if (!b)
                return berth_err_set(err, ENOMEM, "out of memory");
        /* Made (regular) when missing, emptied, deleted: one transaction. */
        int r = nft_batch_chain_add(b, chain);
        if (r >= 0)
                r = nft_batch_chain_flush(b, chain);
        if (r >= 0)
                r = nft_batch_chain_del(b, chain);
        if (r >= 0)
                r = nft_batch_run(b);
        /* No table, or no nf_tables at all: no chain either. */
        if (r == -ENOENT || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EAFNOSUPPORT)
                return 0;
        return r < 0 ? berth_err_sys(err, -r, "remove the shaper chain %s", chain) : 0;
}
