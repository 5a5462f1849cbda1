/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default seccomp profile that `berth spec` embeds in linux.seccomp. */
#ifndef BERTH_SPEC_DEFAULT_SECCOMP_H
#define BERTH_SPEC_DEFAULT_SECCOMP_H

#include <jansson.h>

/* Returns a new reference to an OCI LinuxSeccomp object, or NULL on ENOMEM. */
json_t *default_seccomp_json(void);

#endif
