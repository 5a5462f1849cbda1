/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeping the caller's terminal away from a container's process.
 *
 * A process that holds a terminal fd can push bytes into that terminal's
 * input queue (TIOCSTI, TIOCLINUX paste): they are then read by whatever
 * reads the terminal next, i.e. the admin's shell, as root, on the host.
 * setsid() takes away the "controlling terminal" that TIOCSTI wants, but
 * CAP_SYS_ADMIN in the initial user namespace (a container without a user
 * namespace may hold it) lifts that check, and TIOCLINUX needs no session at
 * all. So berth never hands a host terminal to a process that asked for no
 * terminal of its own:
 *   - foreground (exec, vps exec, run): every one of fds 0-2 that is a
 *     terminal becomes a pipe, and berth relays between the pipe and its
 *     own terminal while it waits for the process (as runc does for all of
 *     its foreground stdio); fds that are not terminals (pipes, fifos,
 *     files, sockets from podman/containerd) are passed as they are,
 *     without copying;
 *   - detached (create, run -d, exec -d): a terminal becomes /dev/null,
 *     since nobody stays behind to relay it (runc passes its stdio through
 *     there; berth does not hand a terminal to a process it leaves).
 * A stdin terminal of which berth is not in the foreground (`berth exec ...
 * &` from a shell) becomes /dev/null too: reading it would stop berth with
 * SIGTTIN even when the process never reads its stdin. */
#ifndef BERTH_RUNTIME_STDIO_GUARD_H
#define BERTH_RUNTIME_STDIO_GUARD_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/err.h"

/* One relayed fd: terminal -> pipe (stdin) or pipe -> terminal (stdout,
 * stderr). `pipe_fd` is ours (non-blocking), `term_fd` is 0, 1 or 2. */
struct stdio_lane {
        int pipe_fd;
        int term_fd;
        bool to_process;
        size_t len, off; /* pending bytes in buf (stdin only) */
        char buf[4096];
};

struct stdio_guard {
        int child[3];     /* the process's fds 0-2 (ours when not replaced) */
        int child_own[3]; /* what we opened for child[] (closed after spawn) */
        struct stdio_lane lanes[3];
        size_t n_lanes;
        unsigned replaced; /* bit per fd 0-2 that was a terminal */
};

/* Nothing replaced (safe to release). */
void stdio_guard_clear(struct stdio_guard *g);
/* Fills g; `detached` picks /dev/null over a relay. */
int stdio_guard_init(struct stdio_guard *g, bool detached, struct berth_err *err);
/* True when any fd was replaced (the process needs g->child as its stdio). */
static inline bool stdio_guard_active(const struct stdio_guard *g)
{
        return g->replaced != 0;
}
/* After the process exists: drops our copies of its ends, so that it sees
 * EOF and we see it. */
void stdio_guard_spawned(struct stdio_guard *g);
/* Fills up to 3 pollfds (one per open lane); returns how many. */
size_t stdio_guard_pollfds(const struct stdio_guard *g, struct pollfd *f);
/* Handles poll's results for the n pollfds stdio_guard_pollfds gave. */
void stdio_guard_pump(struct stdio_guard *g, const struct pollfd *f, size_t n);
/* The process exited: copies what it wrote and is still in the pipes. */
void stdio_guard_drain(struct stdio_guard *g);
void stdio_guard_release(struct stdio_guard *g);

#endif
