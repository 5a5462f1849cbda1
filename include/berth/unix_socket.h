/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unix socket helpers shared by the console socket, the terminal proxy and
 * the VPS console keeper. */
#ifndef BERTH_UNIX_SOCKET_H
#define BERTH_UNIX_SOCKET_H

#include "berth/err.h"

/* Sends one fd with SCM_RIGHTS, `name` (without its NUL, non-empty) as the
 * data (runc's format). */
int berth_send_fd(int sock, int fd, const char *name, struct berth_err *err);

/* Receives one fd sent by berth_send_fd (close-on-exec). */
int berth_recv_fd(int sock, struct berth_err *err);

/* A connected SOCK_STREAM socket to `path` (close-on-exec). */
int berth_connect_unix(const char *path, struct berth_err *err);

#endif
