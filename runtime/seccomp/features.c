/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the seccomp support knows and what this host supports, for
 * `berth features` and for checking a profile before loading it. */
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/seccomp.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The architecture names of the runtime spec. */
static const char *const known_archs[] = {
    "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",      "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",    "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",  "SCMP_ARCH_LOONGARCH64", NULL,
};

static const struct {
        unsigned flag;
        const char *name;
        unsigned long kernel;
} flags[] = {
    {BERTH_SCMP_FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {BERTH_SCMP_FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
     SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const char *const known_flags[] = {
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    NULL,
};

const char *const *berth_seccomp_known_archs(void)
{
        return known_archs;
}

const char *const *berth_seccomp_known_flags(void)
{
        return known_flags;
}

uint32_t berth_seccomp_arch_token(const char *name)
{
        char lower[32];
        size_t i = 0;

        if (strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
                return 0;
        /* libseccomp spells the same names in lower case. */
        for (const char *p = name + 10; *p; p++)
                lower[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        lower[i] = '\0';
        return seccomp_arch_resolve_name(lower);
}

bool berth_seccomp_arch_supported(const char *name)
{
        return berth_seccomp_arch_token(name) != 0;
}

bool berth_seccomp_action_supported(enum berth_seccomp_action a)
{
        static const uint32_t ret[] = {
            [BERTH_SCMP_ACT_KILL] = SECCOMP_RET_KILL_THREAD,
            [BERTH_SCMP_ACT_KILL_PROCESS] = SECCOMP_RET_KILL_PROCESS,
            [BERTH_SCMP_ACT_KILL_THREAD] = SECCOMP_RET_KILL_THREAD,
            [BERTH_SCMP_ACT_TRAP] = SECCOMP_RET_TRAP,
            [BERTH_SCMP_ACT_ERRNO] = SECCOMP_RET_ERRNO,
            [BERTH_SCMP_ACT_TRACE] = SECCOMP_RET_TRACE,
            [BERTH_SCMP_ACT_ALLOW] = SECCOMP_RET_ALLOW,
            [BERTH_SCMP_ACT_LOG] = SECCOMP_RET_LOG,
            [BERTH_SCMP_ACT_NOTIFY] = SECCOMP_RET_USER_NOTIF,
        };
        if ((unsigned)a >= BERTH_ARRAY_SIZE(ret))
                return false;
        uint32_t action = ret[a];
        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

const char *berth_seccomp_flag_name(unsigned flag)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flags); i++)
                if (flags[i].flag == flag)
                        return flags[i].name;
        return NULL;
}

unsigned long berth_seccomp_kernel_flag(unsigned flag)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flags); i++)
                if (flags[i].flag == flag)
                        return flags[i].kernel;
        return 0;
}

bool berth_seccomp_flag_supported(unsigned flag)
{
        unsigned long k = berth_seccomp_kernel_flag(flag);
        if (k == 0)
                return false;
        /* The kernel refuses WAIT_KILLABLE_RECV without a listener. */
        if (k == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                k |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        /* A known flag gets past the flag check and fails on the NULL
         * program with EFAULT; an unknown one fails with EINVAL first.
         * Nothing is loaded either way. */
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, k, NULL) < 0 && errno == EFAULT;
}
