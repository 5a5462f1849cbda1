/* A foreground terminal without --console-socket (`exec -t`, `vps enter`):
 * berth receives the pty master itself and relays it to its own stdio. */
#ifndef BERTH_RUNTIME_TTY_PROXY_H
#define BERTH_RUNTIME_TTY_PROXY_H

#include <sys/types.h>

#include "berth/err.h"

struct tty_proxy;

/* *console_sock gets the end the process sends its pty master over. */
struct tty_proxy *tty_proxy_new(int *console_sock, struct berth_err *err);
/* Receives the master, puts our terminal in raw mode, relays until the
 * process exits, restores the terminal and reaps the process. */
int tty_proxy_run(struct tty_proxy *p, pid_t pid, int pidfd, int *exit_code, struct berth_err *err);
void tty_proxy_free(struct tty_proxy *p);

/* Ctrl-]: ends an attach session. */
#define TTY_DETACH_KEY 0x1d

/* Attaches our terminal to a VPS console keeper over `sock` (connected to
 * its console.sock) until the keeper closes it (the VPS stopped), the user
 * types TTY_DETACH_KEY or our input ends. */
int tty_proxy_attach(int sock, struct berth_err *err);

#endif
