/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The exec trampoline (runtime/trampoline_prog.c): the container's execve is
 * done by a tiny program run from a sealed memfd, so that /proc/self/exe
 * is never the host's berth binary while the container's program starts
 * (CVE-2019-5736). runc and crun copy their whole binary for this; the
 * trampoline is ~2 KiB, and one extra exec of it costs far less. */
#ifndef BERTH_RUNTIME_TRAMPOLINE_H
#define BERTH_RUNTIME_TRAMPOLINE_H

#include <stddef.h>

#include "berth/err.h"
#include "berth/process.h"

/* The linked trampoline, generated at build time (trampoline_embed.cmake). */
extern const unsigned char trampoline_image[];
extern const size_t trampoline_image_size;

/* A close-on-exec memfd holding the trampoline, mode 0111, sealed against
 * any change (write, shrink, grow, further seals). Fails when the kernel
 * refuses executable memfds (vm.memfd_noexec=2): berth then does not run
 * the container rather than exec from its own binary. */
int trampoline_create(struct berth_err *err);

/* The trampoline's argv for running exe with args: {exe, report, args...,
 * NULL}; the report slot (argv[1]) is filled by trampoline_exec.
 * Only the pointer array is allocated (free() it); it points into args. */
char **trampoline_argv(const char *exe, char *const args[], struct berth_err *err);

/* Runs the trampoline: clears close-on-exec on the report fd (the
 * trampoline sets it again), then execveat(fd, "", AT_EMPTY_PATH); when
 * that is refused (EPERM/EACCES/ENOSYS, e.g. a seccomp profile without
 * execveat) execve("/proc/self/fd/N"). Returns only on failure; a failing
 * exec of the trampoline itself is never followed by a plain execve. */
int trampoline_exec(int fd, char **argv, char *const env[], enum berth_exec_report report, int report_fd,
                    struct berth_err *err);

#endif
