/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error reporting: a caller-owned struct filled by the function that fails.
 *
 * Functions that can fail return int (>= 0 success, -errno failure) and take
 * a `struct berth_err *`. The message is built once where the error happens
 * and gets context prepended as it crosses module boundaries, so the CLI can
 * print "create container 'x': mount proc: Operation not permitted". */
#ifndef BERTH_ERR_H
#define BERTH_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define BERTH_ERR_MSG_MAX 1024

/* Says that an ENOSPC is the host's pty limit, not a full disk: callers
 * that blame a file system for ENOSPC leave such a message alone. */
#define BERTH_ERR_NO_PTY "no pty left"

struct berth_err {
        int code;                    /* positive errno value, 0 when clear */
        char msg[BERTH_ERR_MSG_MAX]; /* human readable, no trailing newline */
};

/* Sets the error and returns -code (code is a positive errno). */
int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like berth_err_set, with ": strerror(code)" appended. */
int berth_err_sys(struct berth_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the existing message; returns -err->code. */
int berth_err_wrap(struct berth_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void berth_err_clear(struct berth_err *err);

#endif
