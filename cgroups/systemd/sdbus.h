/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the systemd driver (libberth_systemd). */
#ifndef BERTH_CGROUPS_SYSTEMD_SDBUS_H
#define BERTH_CGROUPS_SYSTEMD_SDBUS_H

#include <systemd/sd-bus.h>

#include "berth/systemd.h"

/* Appends the (sv) properties for res (may be NULL) to an open a(sv). */
int sdbus_append_resources(sd_bus_message *m, const struct berth_resources *res);

#endif
