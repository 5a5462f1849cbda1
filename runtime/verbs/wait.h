/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waiting for a container init in the foreground (`run`). */
#ifndef BERTH_RUNTIME_WAIT_H
#define BERTH_RUNTIME_WAIT_H

#include <sys/types.h>

#include "berth/err.h"

struct stdio_guard;

/* Forwards the usual terminal/job-control signals to the init until it
 * exits, relaying g's terminal lanes (g may be NULL); stores its exit code
 * (128 + signal when killed). */
int container_wait_forwarding(pid_t pid, int pidfd, struct stdio_guard *g, int *exit_code,
                              struct berth_err *err);

/* Waits (without polling) until the process behind pidfd has exited. */
int container_wait_exit(int pidfd, int timeout_ms, struct berth_err *err);

#endif
