/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one conversion between cgroup v1 cpu.shares and v2 cpu.weight, for
 * the OCI path (cgroups/: shares from config.json onto a v2 host) and the
 * VPS path (runtime/vps/: a VPS's weight into config.json's shares). */
#ifndef BERTH_CPU_WEIGHT_H
#define BERTH_CPU_WEIGHT_H

#include <stdint.h>

/* cpu.shares [2, 262144] -> cpu.weight [1, 10000] on a quadratic curve in
 * log space that maps the v1 default 1024 onto the v2 default 100;
 * out-of-range shares are clamped, 0 (unset) stays 0. */
uint64_t berth_cpu_shares_to_weight(uint64_t shares);

/* cpu.weight -> the largest shares that berth_cpu_shares_to_weight maps
 * back onto it (100 -> 1024), so a weight survives the round trip. */
uint64_t berth_cpu_weight_to_shares(uint64_t weight);

#endif
