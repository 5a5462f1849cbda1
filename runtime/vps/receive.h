/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps receive (receive*.c): the destination's checks and commit. */
#ifndef BERTH_RUNTIME_VPS_RECEIVE_H
#define BERTH_RUNTIME_VPS_RECEIVE_H

#include <stdint.h>

#include "berth/err.h"
#include "berth/vps.h"

/* Preflight checks (receive_check.c): the name is free (no VPS, no other
 * migration coming in than our staging directory self, or NULL), the template exists with checksum sum, no other
 * VPS has one of the addresses, need bytes are free (and a project quota
 * is enforced where the VPS has one). */
int recv_check_name(const struct berth_vps_ctx *v, const char *name, const char *self, struct berth_err *err);
int recv_check_template(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *sum,
                        struct berth_err *err);
int recv_check_addrs(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                     struct berth_err *err);
/* The kernel features the VPS's start needs, each tried here (overlayfs,
 * the disk image's file system and loop devices, the idmapped template,
 * the I/O controller for I/O limits): a VPS that could not start here is
 * refused before it stops there. */
int recv_check_kernel(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                      struct berth_err *err);
int recv_check_disk(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, uint64_t need,
                    struct berth_err *err);
/* cfg's id range here (under the registry's lock); its host end's name. */
int recv_pick_range(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err);
int recv_host_if(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err);

#endif
