/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A cache of compiled seccomp programs under the state root.
 *
 * libseccomp needs ~16 ms to turn the default profile (~450 syscall names
 * on three architectures) into BPF, on every `create` and `run`. The result
 * depends only on the profile, the libseccomp and berth versions and the
 * running kernel (which flags it accepts), so it is kept in
 *
 *   <state root>/.seccomp-cache/<16 hex digits>.bpf
 *
 * The hex digits are a 64-bit FNV-1a of a canonical serialisation of every
 * field of struct berth_seccomp that shapes the program (default action and
 * errno, flags, architectures, each rule's names, action, errno and args)
 * plus the versions above. The file stores that whole serialisation, and a
 * read only counts as a hit when it matches byte for byte: a crafted profile
 * that collides with the hash of someone else's profile gets a miss, never
 * someone else's program. Files are written atomically (tmp + rename) and
 * checked on read (magic, format, lengths, checksum); anything wrong is a
 * miss and the file is rewritten. A cache that cannot be read or written
 * only costs the compile: it never fails the container. */
#ifndef BERTH_RUNTIME_SECCOMP_CACHE_H
#define BERTH_RUNTIME_SECCOMP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/err.h"
#include "berth/seccomp.h"
#include "berth/spec.h"

#define BERTH_SECCOMP_CACHE_DIR ".seccomp-cache"

/* berth_seccomp_compile through the cache in state_root_fd (a directory fd
 * of the state root; < 0 disables the cache). *hit (may be NULL) tells
 * whether the program came from the cache. Errors are the compile's. */
struct berth_seccomp_filter *seccomp_cached_compile(int state_root_fd, const struct berth_seccomp *s,
                                                    bool *hit, struct berth_err *err);

/* The canonical bytes the cache keys on; free() *key. Exposed for tests. */
int seccomp_cache_key(const struct berth_seccomp *s, unsigned char **key, size_t *len, struct berth_err *err);

/* The file name ("<hash>.bpf") for a key. */
void seccomp_cache_name(const unsigned char *key, size_t len, char name[32]);

#endif
