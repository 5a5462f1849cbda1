/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seccomp: the OCI linux.seccomp profile -> a BPF program loaded into the
 * process, the notify-listener hand-off, and the feature lists.
 *
 * libseccomp builds the program; berth loads it with seccomp(2) itself so it
 * can pass every kernel filter flag (LOG, SPEC_ALLOW, NEW_LISTENER,
 * WAIT_KILLABLE_RECV) whether or not the installed libseccomp knows it.
 * The loaded program is exactly the one libseccomp's own seccomp_load()
 * would load. no_new_privs is never set here: berth_process_exec does it. */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/spec.h"

/* A compiled filter: BPF instructions plus the seccomp(2) flags to load it
 * with. Compile before dropping privileges, load at the last moment. */
struct berth_seccomp_filter;

/* Builds the filter. Errors name the culprit: an unknown architecture
 * ("seccomp: unknown architecture \"SCMP_ARCH_FOO\""), a flag the kernel
 * lacks, a bad argument index. Syscall names libseccomp does not know are
 * skipped (profiles list syscalls of newer kernels). A rule whose action is
 * the default action is skipped too. */
struct berth_seccomp_filter *berth_seccomp_compile(const struct berth_seccomp *s, struct berth_err *err);
void berth_seccomp_filter_free(struct berth_seccomp_filter *f);

/* True when the filter has SCMP_ACT_NOTIFY rules, i.e. loading it creates a
 * listener fd that must be handed to listenerPath. */
bool berth_seccomp_filter_has_notify(const struct berth_seccomp_filter *f);
bool berth_seccomp_has_notify(const struct berth_seccomp *s);

/* Loads the filter into the calling thread. Needs no_new_privs or
 * CAP_SYS_ADMIN. *notify_fd receives the listener fd (O_CLOEXEC) when the
 * filter has NOTIFY rules, -EBADF otherwise. Returns 0 or -errno. */
/* The raw program, for the compiled-program cache (runtime/seccomp_cache.c):
 * the BPF instructions (*len of them) and the seccomp(2) flags. */
struct sock_filter;
const struct sock_filter *berth_seccomp_filter_insns(const struct berth_seccomp_filter *f, size_t *len);
unsigned long berth_seccomp_filter_flags(const struct berth_seccomp_filter *f);
/* A filter from a program compiled earlier; copies the len instructions. */
struct berth_seccomp_filter *berth_seccomp_filter_new(const struct sock_filter *insns, size_t len,
                                                      unsigned long flags, bool notify,
                                                      struct berth_err *err);

int berth_seccomp_filter_load(const struct berth_seccomp_filter *f, int *notify_fd, struct berth_err *err);

/* berth_seccomp_compile + berth_seccomp_filter_load. */
int berth_seccomp_load(const struct berth_seccomp *s, int *notify_fd, struct berth_err *err);

/* Runtime (host) side: connects to listener_path (unix stream socket) and
 * sends notify_fd with SCM_RIGHTS together with the runtime-spec "container
 * process state" JSON: {"ociVersion", "fds":["seccompFd"], "pid",
 * "metadata", "state": <container_state_json>}. metadata may be NULL (sent
 * as ""). container_state_json must be a JSON object text. */
int berth_seccomp_send_listener(const char *listener_path, const char *metadata, int notify_fd,
                                const char *container_state_json, pid_t pid, struct berth_err *err);

/* ---- features (`berth features`) ---------------------------------------- */

/* NULL-terminated, static: "SCMP_ACT_KILL", ... / "SCMP_CMP_NE", ... /
 * "SCMP_ARCH_X86", ... / "SECCOMP_FILTER_FLAG_LOG", ... The actions and
 * operators are the spec parser's own lists (runtime/spec_seccomp.c),
 * indexed by enum berth_seccomp_action / enum berth_seccomp_op. */
const char *const *berth_seccomp_known_actions(void);
const char *const *berth_seccomp_known_operators(void);
const char *const *berth_seccomp_known_archs(void);
const char *const *berth_seccomp_known_flags(void);

/* libseccomp's token for a "SCMP_ARCH_*" name, 0 when it does not know it. */
uint32_t berth_seccomp_arch_token(const char *name);
/* The libseccomp in use can build filters for this "SCMP_ARCH_*" name. */
bool berth_seccomp_arch_supported(const char *name);
/* The kernel has this action (SECCOMP_GET_ACTION_AVAIL). */
bool berth_seccomp_action_supported(enum berth_seccomp_action a);
/* The kernel accepts this BERTH_SCMP_FLAG_* (probed with seccomp(2)). */
bool berth_seccomp_flag_supported(unsigned flag);
/* "SECCOMP_FILTER_FLAG_LOG" for BERTH_SCMP_FLAG_LOG, NULL if unknown. */
const char *berth_seccomp_flag_name(unsigned flag);
/* SECCOMP_FILTER_FLAG_* for a BERTH_SCMP_FLAG_*, 0 if unknown. */
unsigned long berth_seccomp_kernel_flag(unsigned flag);

#endif
