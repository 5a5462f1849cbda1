/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A foreground terminal without --console-socket (`exec -t`, `run`, `vps enter`):
 * berth receives the pty master itself and relays it to its own stdio. */
#ifndef BERTH_TTY_H
#define BERTH_TTY_H

#include <sys/types.h>

#include "berth/err.h"

struct berth_tty_proxy;
struct berth_process;

/* A relayed pty starts with our terminal's size unless the spec gives
 * one: the process may ask for it before the relay's first copy. */
void berth_tty_proxy_initial_size(struct berth_process *p);

/* *console_sock gets the end the process sends its pty master over. */
struct berth_tty_proxy *berth_tty_proxy_new(int *console_sock, struct berth_err *err);
/* Receives the master, puts our terminal in raw mode, relays until the
 * process exits (our window size follows SIGWINCH; SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1/2, SIGCONT and SIGPWR are passed on to it), restores
 * the terminal and reaps the process. */
int berth_tty_proxy_run(struct berth_tty_proxy *p, pid_t pid, int pidfd, int *exit_code,
                        struct berth_err *err);
void berth_tty_proxy_free(struct berth_tty_proxy *p);

/* Ctrl-]: ends an attach session. */
#define BERTH_TTY_DETACH_KEY 0x1d

/* Attaches our terminal to a VPS console keeper over `sock` (connected to
 * its console.sock) until the keeper closes it (the VPS stopped), the user
 * types BERTH_TTY_DETACH_KEY or our input ends. */
int berth_tty_proxy_attach(int sock, struct berth_err *err);

#endif
