// SPDX-License-Identifier: GPL-2.0-or-later
/* Syscalls newer than the profile get ENOSYS, not the default action.
 *
 * A profile lists the syscalls its author knew; its default action (EPERM,
 * typically) then also hits every syscall added to the kernel since. A
 * program that probes a new syscall (glibc's clone3, then clone) falls back
 * on ENOSYS but gives up on EPERM. runc therefore puts a prologue in front
 * of libseccomp's program: a syscall numbered above the highest number the
 * profile names, for that architecture, returns ENOSYS. We do the same.
 * Lower numbers the profile does not name keep the default action: they
 * existed when the profile was written and were left out on purpose.
 *
 * Layout (classic BPF jumps only forward):
 *     ld  arch
 *     for each architecture A with highest number L:
 *         jeq A ? next insn : next block
 *         ld  nr
 *         (x86_64 only) jset X32 bit ? main : next insn
 *         jgt L ? enosys : main
 *     ja  main
 *   enosys: ret ERRNO(ENOSYS)
 *   main:   libseccomp's program */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/seccomp/enosys.h"

#define MAX_ARCHES      16
#define X32_SYSCALL_BIT 0x40000000u

struct arch_last {
        uint32_t token; /* SCMP_ARCH_*: the AUDIT_ARCH_* value, for real arches */
        int last;       /* highest syscall number the profile names, or -1 */
};

static bool permissive(const struct berth_seccomp *s)
{
        if (s->default_action == BERTH_SCMP_ACT_ALLOW || s->default_action == BERTH_SCMP_ACT_LOG)
                return true;
        return s->default_action == BERTH_SCMP_ACT_ERRNO && s->has_default_errno_ret &&
               s->default_errno_ret == ENOSYS;
}

static size_t add_arch(struct arch_last *a, size_t n, uint32_t token)
{
        /* x32 shares AUDIT_ARCH_X86_64 but numbers from the X32 bit: its
         * syscalls skip the prologue (see the jset). */
        if (token == 0 || token == SCMP_ARCH_X32 || n == MAX_ARCHES)
                return n;
        for (size_t i = 0; i < n; i++)
                if (a[i].token == token)
                        return n;
        a[n] = (struct arch_last){.token = token, .last = -1};
        return n + 1;
}

static size_t find_last(const struct berth_seccomp *s, struct arch_last *a)
{
        size_t n = add_arch(a, 0, seccomp_arch_native());
        for (size_t i = 0; i < s->n_architectures; i++)
                n = add_arch(a, n, berth_seccomp_arch_token(s->architectures[i]));
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < s->n_rules; i++)
                        for (size_t j = 0; j < s->rules[i].n_names; j++) {
                                /* Negative: unknown here, or a multiplexed
                                 * pseudo-number (socketcall on i386). */
                                int nr = seccomp_syscall_resolve_name_arch(a[k].token, s->rules[i].names[j]);
                                if (nr > a[k].last)
                                        a[k].last = nr;
                        }
        return n;
}

static struct sock_filter stmt(unsigned short code, unsigned k)
{
        return (struct sock_filter)BPF_STMT(code, k);
}

static struct sock_filter jump(unsigned short code, unsigned k, size_t jt, size_t jf)
{
        return (struct sock_filter)BPF_JUMP(code, k, (unsigned char)jt, (unsigned char)jf);
}

/* Writes the prologue into p (room for 3 + 4 * n); returns its length. */
static size_t build(const struct arch_last *a, size_t n, struct sock_filter *p)
{
        size_t len = 0, blocks = 0;
        for (size_t k = 0; k < n; k++)
                if (a[k].last >= 0)
                        blocks += a[k].token == AUDIT_ARCH_X86_64 ? 4 : 3;
        /* ld arch, the blocks, ja main, then: */
        const size_t enosys = 1 + blocks + 1, main = enosys + 1;

        p[len++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        for (size_t k = 0; k < n; k++) {
                if (a[k].last < 0)
                        continue;
                bool x86_64 = a[k].token == AUDIT_ARCH_X86_64;
                size_t size = x86_64 ? 4 : 3;
                p[len] = jump(BPF_JMP | BPF_JEQ | BPF_K, a[k].token, 0, size - 1);
                len++;
                p[len++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
                if (x86_64) {
                        p[len] = jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, main - len - 1, 0);
                        len++;
                }
                p[len] =
                    jump(BPF_JMP | BPF_JGT | BPF_K, (unsigned)a[k].last, enosys - len - 1, main - len - 1);
                len++;
        }
        p[len++] = stmt(BPF_JMP | BPF_JA | BPF_K, (unsigned)(main - enosys)); /* over the ret */
        p[len++] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
        return len;
}

int seccomp_enosys_prepend(const struct berth_seccomp *s, struct sock_filter **insns, size_t *n,
                           struct berth_err *err)
{
        struct arch_last a[MAX_ARCHES];
        struct sock_filter stub[3 + 4 * MAX_ARCHES];

        if (permissive(s))
                return 0;
        size_t n_arch = find_last(s, a), known = 0;
        for (size_t k = 0; k < n_arch; k++)
                known += a[k].last >= 0;
        if (known == 0) /* no syscall named: nothing is "newer" than the profile */
                return 0;
        size_t len = build(a, n_arch, stub);
        struct sock_filter *all = malloc((len + *n) * sizeof(*all));
        if (!all)
                return berth_err_sys(err, ENOMEM, "seccomp: the ENOSYS prologue");
        memcpy(all, stub, len * sizeof(*all));
        memcpy(all + len, *insns, *n * sizeof(*all));
        free(*insns);
        *insns = all;
        *n += len;
        return 0;
}
