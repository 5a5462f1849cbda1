/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.capabilities: the bounding set, the permitted / effective /
 * inheritable sets (through libcap) and the ambient set. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "berth/process.h"

/* Number of capabilities the running kernel knows (cap_last_cap + 1). A
 * spec may name capabilities of a newer kernel: those are left out, as runc
 * does, rather than failing the container. */
static unsigned kernel_cap_count(void)
{
        unsigned n = (unsigned)cap_max_bits();
        return n > 64 ? 64 : n;
}

/* "CAP_CHOWN" for messages (libcap spells names in lower case). */
static void cap_name(unsigned cap, char *buf, size_t len)
{
        char *n = cap_to_name((cap_value_t)cap);
        snprintf(buf, len, "%s", n ? n : "?");
        cap_free(n);
        for (char *p = buf; *p; p++)
                *p = (char)toupper((unsigned char)*p);
}

static bool has_cap(uint64_t set, unsigned cap)
{
        return (set >> cap) & 1;
}

int berth_caps_drop_bounding(uint64_t bounding, struct berth_err *err)
{
        unsigned n = kernel_cap_count();

        for (unsigned cap = 0; cap < n; cap++) {
                if (has_cap(bounding, cap))
                        continue;
                /* The bounding set caps what execve can ever grant again,
                 * even to setuid binaries and file capabilities. A refused
                 * drop is fine when the capability is gone already (`berth
                 * exec` into a container whose init dropped CAP_SETPCAP):
                 * asked only then, which saves a syscall per capability. */
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
                        continue;
                int e = errno;
                if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
                        continue;
                char name[64];
                cap_name(cap, name, sizeof(name));
                return berth_err_sys(err, e, "drop %s from the bounding set", name);
        }
        return 0;
}

static int set_flag(cap_t c, cap_flag_t flag, uint64_t set, unsigned n)
{
        for (cap_value_t cap = 0; (unsigned)cap < n; cap++)
                if (has_cap(set, (unsigned)cap) && cap_set_flag(c, flag, 1, &cap, CAP_SET) < 0)
                        return -errno;
        return 0;
}

static int apply_sets(const struct berth_caps *caps, unsigned n, struct berth_err *err)
{
        cap_t c = cap_init(); /* all sets empty */
        if (!c)
                return berth_err_sys(err, errno, "cap_init");
        int r = set_flag(c, CAP_PERMITTED, caps->permitted, n);
        if (r == 0)
                r = set_flag(c, CAP_EFFECTIVE, caps->effective, n);
        if (r == 0)
                r = set_flag(c, CAP_INHERITABLE, caps->inheritable, n);
        /* capset: permitted can only shrink, effective must be within the
         * new permitted, inheritable within the old permitted (we have no
         * effective CAP_SETPCAP after a uid change). Everything not listed
         * is gone for good. */
        if (r == 0 && cap_set_proc(c) < 0)
                r = -errno;
        cap_free(c);
        if (r < 0)
                return berth_err_sys(err, -r, "set capabilities");
        return 0;
}

static int apply_ambient(uint64_t ambient, unsigned n, struct berth_err *err)
{
        /* Start from an empty ambient set: whatever the runtime had must not
         * leak into the container. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
                if (errno == EINVAL && ambient == 0)
                        return 0; /* kernel without ambient caps, none asked */
                return berth_err_sys(err, errno, "clear the ambient capabilities");
        }
        for (unsigned cap = 0; cap < n; cap++) {
                /* Ambient caps survive execve of a non-privileged binary by a
                 * non-root user; the kernel requires them to be in both the
                 * permitted and the inheritable set. runc's default spec
                 * lists ambient caps without inheritable ones: like runc and
                 * crun, such a cap is simply not raised (EPERM). */
                if (has_cap(ambient, cap) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 &&
                    errno != EPERM) {
                        int e = errno;
                        char name[64];
                        cap_name(cap, name, sizeof(name));
                        return berth_err_sys(err, e, "raise ambient capability %s", name);
                }
        }
        return 0;
}

int berth_caps_apply(const struct berth_caps *caps, struct berth_err *err)
{
        unsigned n = kernel_cap_count();
        int r = apply_sets(caps, n, err);
        if (r < 0)
                return r;
        return apply_ambient(caps->ambient, n, err);
}
