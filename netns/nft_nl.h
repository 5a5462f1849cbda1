/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One nf_tables transaction built and sent over libmnl: the
 * per-VPS changes (set elements, a hook device) without libnftables, whose
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
/* dev among the devices of "netdev berth guest" (nft's "add chain ...
 * devices = { dev }"). */
int nft_batch_hook_dev(struct nft_batch *b, const char *dev);
/* Sends the batch as one transaction in the current network namespace and
 * waits for the kernel's answer: 0, or the first message's -errno (then
 * nothing of it was applied). Fails -EPROTONOSUPPORT without nfnetlink. */
int nft_batch_run(struct nft_batch *b);

#endif
