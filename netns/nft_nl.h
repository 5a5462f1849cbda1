/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One nf_tables transaction built and sent over libmnl: the
 * per-VPS changes (set elements, the guest's base chain) without libnftables, whose
 * first use in a process costs several ms (docs/security-network.md). */
#ifndef BERTH_NETNS_NFT_NL_H
#define BERTH_NETNS_NFT_NL_H

#include <stdint.h>

#include "berth/err.h"
#include "berth/nft.h"

struct nft_batch;

struct nft_batch *nft_batch_new(void);
void nft_batch_free(struct nft_batch *b);
/* Each adds one message; -ENOMEM when out of memory. */
int nft_batch_elem_add(struct nft_batch *b, const struct berth_nft_elem *e);
int nft_batch_elem_del(struct nft_batch *b, const struct berth_nft_elem *e);
/* Every element of a set (nft's "flush set"). */
int nft_batch_set_flush(struct nft_batch *b, uint8_t family, const char *set);
/* Chains of table "netdev berth" (the family every chain message here
 * has): chain as a base chain on the ingress hook of dev, priority 0,
 * policy accept (nft's "add chain ... { type filter hook ingress device
 * dev priority 0; policy accept; }": made, or left as it is when it has
 * that hook already); chain made as a regular one when missing (an
 * existing chain, base or not, stays as it is); chain deleted with its
 * rules; every rule of chain deleted ("flush chain"); and a rule
 * "jump target" appended to chain. */
int nft_batch_chain_hook(struct nft_batch *b, const char *chain, const char *dev);
int nft_batch_chain_add(struct nft_batch *b, const char *chain);
int nft_batch_chain_del(struct nft_batch *b, const char *chain);
int nft_batch_chain_flush(struct nft_batch *b, const char *chain);
int nft_batch_rule_jump(struct nft_batch *b, const char *chain, const char *target);
/* Sends the batch as one transaction in the current network namespace and
 * waits for the kernel's answer: 0, or the first message's -errno (then
 * nothing of it was applied). Fails -EPROTONOSUPPORT without nfnetlink. */
int nft_batch_run(struct nft_batch *b);

/* Runs nft script text as one transaction through libnftables (loaded on
 * first use); what names the job in err. */
int nft_run_text(const char *text, const char *what, struct berth_err *err);

/* The chain handing what ifname receives to its shaper's IFB device ifb
 * after berth's filter (netns/nft_fwd.c): made or replaced / removed (0
 * when there is none). */
int nft_fwd_set(const char *ifname, const char *ifb, struct berth_err *err);
int nft_fwd_remove(const char *ifname, struct berth_err *err);

#endif
