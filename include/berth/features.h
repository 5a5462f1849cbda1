/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `berth features`: the OCI runtime features document (runtime-spec
 * features.md), built from what this binary implements and what the
 * running host's kernel, libseccomp and tools actually support. */
#ifndef BERTH_FEATURES_H
#define BERTH_FEATURES_H

#include <stdbool.h>

#include "berth/err.h"

/* The newest runtime-spec version berth implements (features' ociVersionMax). */
#define BERTH_FEATURES_OCI_MAX "1.2.0"

/* Mount options the spec parser turns into mount flags, propagation or a
 * bind mount and that the rootfs code honours. NULL-terminated, static. */
const char *const *berth_features_mount_options(void);

/* The features document as pretty-printed JSON text (malloc'd), or NULL and
 * err. Probes the host: namespaces, capabilities, cgroups, seccomp, criu. */
char *berth_features_json(struct berth_err *err);

#endif
