/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parent <-> container-init channel: a SOCK_SEQPACKET socketpair, one
 * fixed-size message per step, so neither side ever polls or sleeps. */
#ifndef BERTH_RUNTIME_SYNC_H
#define BERTH_RUNTIME_SYNC_H

#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/spec.h"

enum sync_type {
        SYNC_PROCEED = 1,    /* parent: maps (and cgroups, unless late) are set; payload: host pid */
        SYNC_RUNTIME_HOOKS,  /* child: rootfs mounted, run prestart/createRuntime now */
        SYNC_HOOKS_DONE,     /* parent: hooks ran, go on */
        SYNC_READY,          /* child: all set up, waiting for start */
        SYNC_START,          /* parent (run): start the process */
        SYNC_WRITE_MAPS,     /* child (two-stage): user ns created, write its id maps */
        SYNC_GRANDCHILD_PID, /* child (two-stage): pid ns created, payload: the real init's pid */
        SYNC_CGROUPS,        /* parent (join_cgroups_late): the v1 cgroups are ready to join */
        SYNC_ERROR,          /* child: failed; payload: errno + message */
        SYNC_SECCOMP,        /* child: a NOTIFY filter is loaded; its listener fd follows */
        SYNC_SECCOMP_DONE,   /* parent: the fd went to linux.seccomp.listenerPath */
};

struct sync_msg {
        uint32_t type;
        int32_t value; /* pid or errno */
        char text[BERTH_ERR_MSG_MAX];
};

/* Sends a message; it carries no fd. Fds cross the same socket in their
 * own SCM_RIGHTS message, between steps: the idmapped mounts
 * (berth_idmap_send_fds, after SYNC_PROCEED). */
int sync_send(int sock, enum sync_type type, int32_t value, const char *text);
/* Receives a message and expects `type`; a SYNC_ERROR from the child is
 * turned into err; EOF means the child died without a word. */
int sync_expect(int sock, enum sync_type type, int32_t *value, struct berth_err *err);
/* Child side (a berth_exec_ctx seccomp_notify callback, arg: the sync
 * socket as intptr_t): SYNC_SECCOMP, the fd, then waits for the parent. */
int sync_send_seccomp_fd(void *sock, int notify_fd, struct berth_err *err);
/* Parent side: takes the child's SYNC_SECCOMP and fd and sends them to
 * s->listener_path with the state `state_json` (runtime-spec "container
 * process state"), then answers SYNC_SECCOMP_DONE. */
int sync_relay_seccomp_fd(int sock, const struct berth_seccomp *s, const char *state_json, pid_t pid,
                          struct berth_err *err);
/* Child side: reports err to the parent and exits. */
__attribute__((noreturn)) void sync_fail(int sock, const struct berth_err *err);

#endif
