// SPDX-License-Identifier: GPL-2.0-or-later
/* The -ENOSYS prologue of a seccomp program (runtime/seccomp/enosys.c). */
#ifndef BERTH_RUNTIME_SECCOMP_ENOSYS_H
#define BERTH_RUNTIME_SECCOMP_ENOSYS_H

#include <linux/filter.h>
#include <stddef.h>

#include "berth/err.h"
#include "berth/seccomp.h"

/* Prepends to *insns (len *n, malloc'd, replaced) a prologue that answers
 * ENOSYS to syscalls numbered above the highest one the profile names, on
 * each of its architectures; nothing when the default action lets
 * syscalls through or is already ENOSYS. */
int seccomp_enosys_prepend(const struct berth_seccomp *s, struct sock_filter **insns, size_t *n,
                           struct berth_err *err);

#endif
