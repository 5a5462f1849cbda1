/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The exit codes of the `berth vps` and `berth template` verbs: one stable
 * set that scripts can rely on, documented in README.md ("Exit codes are
 * stable"). The numbers never change; a new kind of failure maps onto one
 * of them. (The OCI verbs follow runc instead: 0, 1, or the container's.) */
#ifndef BERTH_EXIT_CODE_H
#define BERTH_EXIT_CODE_H

enum berth_exit_code {
        BERTH_EXIT_OK = 0,        /* success (vps exec: the command's own code instead) */
        BERTH_EXIT_FAILURE = 1,   /* unexpected failure: anything not listed below */
        BERTH_EXIT_INVALID = 2,   /* invalid argument or configuration (EINVAL, ENAMETOOLONG, ...) */
        BERTH_EXIT_NOT_FOUND = 3, /* no such VPS or template (ENOENT, ENODEV) */
        BERTH_EXIT_EXISTS = 4,   /* already exists: a name, an address another VPS has (EEXIST, EADDRINUSE) */
        BERTH_EXIT_STATE = 5,    /* wrong state: running / stopped, in use (EBUSY, ESRCH, EALREADY) */
        BERTH_EXIT_RESOURCE = 6, /* the system refused: memory, disk, limits, kernel, network, tools */
};

/* The exit code for a positive or negative errno (a struct berth_err's
 * code); 0 -> BERTH_EXIT_OK. */
enum berth_exit_code berth_exit_code_from_errno(int code);

#endif
