/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harnesses for the parsers of external input other than
 * config.json: the state file, the cgroup dump it carries, /proc texts
 * (mountinfo, /proc/<pid>/cgroup, /proc/<pid>/stat), the cgroup stat files
 * and IP addresses given on the command line.
 *
 * Built once per entry point with FUZZ_TARGET set (see the FUZZ_* ids).
 * Every harness checks what the parser promises, not only that it does
 * not crash: a successful parse yields a complete object, a formatted
 * state parses back to the same values, a failure sets the message. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cgroup.h"
#include "berth/netns.h"
#include "berth/proc.h"
#include "berth/rootfs.h"
#include "berth/state.h"
#include "cgroups/internal.h"

#define FUZZ_STATE       1 /* berth_state_parse (+ format round trip) */
#define FUZZ_CGROUP_DUMP 2 /* berth_cgroup_restore: state.json's "cgroup" */
#define FUZZ_MOUNTINFO   3 /* berth_mountinfo_next, cg_parse_mountinfo */
#define FUZZ_PROC_CGROUP 4 /* berth_proc_cgroup_next, cg_parse_proc_cgroup, cg_proc_cgroup_path */
#define FUZZ_CGSTATS     5 /* cg_keyed_u64, cg_parse_io_stat, cg_parse_blkio */
#define FUZZ_IPADDR      6 /* berth_ip_addr_parse (+ format round trip) */
#define FUZZ_PROC_STAT   7 /* berth_proc_stat_start_time, berth_proc_stat_exited */

#ifndef FUZZ_TARGET
#define FUZZ_TARGET FUZZ_STATE
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HELPER static __attribute__((unused))

static volatile size_t sink;

/* The text parsers take NUL-terminated buffers, as read from a file. */
FUZZ_HELPER char *as_string(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

FUZZ_HELPER void touch(const char *s)
{
        if (s)
                sink += strlen(s);
}

FUZZ_HELPER bool same_str(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

#if FUZZ_TARGET == FUZZ_STATE
static void check_same_state(const struct berth_state *a, const struct berth_state *b)
{
        /* format writes "" for a missing rootfs/created/owner. */
        if (!same_str(a->id, b->id) || !same_str(a->bundle, b->bundle) || a->pid != b->pid ||
            a->pid_start_time != b->pid_start_time || !same_str(a->rootfs ? a->rootfs : "", b->rootfs) ||
            !same_str(a->created ? a->created : "", b->created) ||
            !same_str(a->owner ? a->owner : "", b->owner) || !same_str(a->cgroup, b->cgroup) ||
            a->systemd_cgroup != b->systemd_cgroup || a->n_annotations != b->n_annotations)
                abort();
        for (size_t i = 0; i < a->n_annotations; i++)
                if (!same_str(a->annotations[i].key, b->annotations[i].key) ||
                    !same_str(a->annotations[i].value, b->annotations[i].value))
                        abort();
}

static void fuzz_one(const uint8_t *data, size_t size)
{
        struct berth_state st;
        struct berth_err err = {0};
        if (berth_state_parse((const char *)data, size, &st, &err) < 0) {
                if (!err.code || !err.msg[0])
                        abort();
                return;
        }
        if (!st.id || !st.bundle || st.pid < 0 || (st.n_annotations && !st.annotations))
                abort();
        (void)berth_state_init_alive(&st); /* reads /proc/<pid>/stat of a fuzzed pid: harmless */
        char *text = berth_state_format(&st);
        if (!text)
                abort();
        struct berth_state again;
        if (berth_state_parse(text, strlen(text), &again, &err) < 0)
                abort();
        check_same_state(&st, &again);
        berth_state_clear(&again);
        free(text);
        berth_state_clear(&st);
        if (st.id || st.annotations || st.n_annotations)
                abort(); /* clear leaves an empty struct */
}

#elif FUZZ_TARGET == FUZZ_CGROUP_DUMP
static void fuzz_one(const uint8_t *data, size_t size)
{
        char *s = as_string(data, size);
        struct berth_err err = {0};
        /* Restoring opens the unified dir the dump names (O_PATH, read
         * only): harmless for fuzzed paths. */
        struct berth_cgroup *cg = berth_cgroup_restore(s, &err);
        if (!cg) {
                if (!err.code || !err.msg[0])
                        abort();
        } else {
                touch(berth_cgroup_path(cg));
                (void)berth_cgroup_layout(cg);
                (void)berth_cgroup_clone_fd(cg);
                char *dump = berth_cgroup_dump(cg);
                touch(dump);
                free(dump);
                berth_cgroup_free(cg);
        }
        free(s);
}

#elif FUZZ_TARGET == FUZZ_MOUNTINFO
static void check_host(const struct cg_host *h)
{
        for (size_t i = 0; i < h->n; i++) {
                if (!h->m[i].root || !h->m[i].mountpoint)
                        abort();
                touch(h->m[i].root);
                touch(h->m[i].mountpoint);
                touch(h->m[i].name);
                touch(h->m[i].own);
        }
}

static void fuzz_one(const uint8_t *data, size_t size)
{
        char *s = as_string(data, size);
        /* The one mountinfo parser (base/mountinfo.c, it edits its
         * buffer): every entry it yields is complete and inside the copy. */
        char *copy = strdup(s), *cur = copy;
        if (!copy)
                abort();
        struct berth_mountinfo_entry e;
        while (berth_mountinfo_next(&cur, &e)) {
                /* root, mount point and source may hold a decoded \012;
                 * the fields that are not unescaped hold no newline. */
                const char *f[] = {e.options, e.fstype, e.super_options, e.root, e.mount_point, e.source};
                for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
                        if (!f[i] || f[i] < copy || f[i] > copy + size || (i < 3 && strchr(f[i], '\n')))
                                abort();
                touch(e.root);
                touch(e.mount_point);
                touch(e.super_options);
        }
        if (cur < copy || cur > copy + size || *cur)
                abort(); /* consumed to the end */
        free(copy);
        struct cg_host h = {0};
        struct berth_err err = {0};
        if (cg_parse_mountinfo(s, &h, &err) == 0)
                check_host(&h);
        cg_host_clear(&h);
        free(s);
}

#elif FUZZ_TARGET == FUZZ_PROC_CGROUP
/* Input: a mountinfo text, a NUL byte, a /proc/<pid>/cgroup text; the
 * hierarchies of the first get their "own" path from the second. */
static void fuzz_one(const uint8_t *data, size_t size)
{
        char *s = as_string(data, size);
        const char *procfile = s + strlen(s) + (strlen(s) < size ? 1 : 0);
        /* The one /proc/<pid>/cgroup parser (base/proc_cgroup.c): each
         * entry lies inside one line of the text, v2 has no controllers. */
        const char *cur = procfile, *end = procfile + strlen(procfile);
        struct berth_proc_cgroup_entry e;
        while (berth_proc_cgroup_next(&cur, &e)) {
                if (e.controllers < procfile || e.path < e.controllers + e.controllers_len ||
                    e.path + e.path_len > end || memchr(e.controllers, '\n', e.controllers_len) ||
                    memchr(e.path, '\n', e.path_len) || (e.v2 && e.controllers_len))
                        abort();
                sink += e.path_len;
        }
        if (cur != end)
                abort();
        struct cg_host h = {0};
        struct berth_err err = {0};
        if (cg_parse_mountinfo(s, &h, &err) == 0 && cg_parse_proc_cgroup(procfile, &h, &err) == 0)
                for (size_t i = 0; i < h.n; i++)
                        touch(h.m[i].own);
        cg_host_clear(&h);
        static const unsigned masks[] = {0, CG_BIT(CG_MEMORY), CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT),
                                         CG_BIT(CG_PIDS)};
        for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
                char *p = cg_proc_cgroup_path(procfile, i == 0, masks[i], NULL);
                touch(p);
                free(p);
        }
        free(s);
}

#elif FUZZ_TARGET == FUZZ_CGSTATS
static void fuzz_one(const uint8_t *data, size_t size)
{
        char *s = as_string(data, size);
        static const char *const keys[] = {"oom",    "oom_kill",  "max",        "usage_usec", "populated",
                                           "frozen", "user_usec", "nr_periods", "",           "under_oom"};
        uint64_t v, a, b, c, d;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (cg_keyed_u64(s, keys[i], &v))
                        sink += v;
        cg_parse_io_stat(s, &a, &b, &c, &d);
        sink += a + b + c + d;
        cg_parse_blkio(s, &a, &b);
        sink += a + b;
        free(s);
}

#elif FUZZ_TARGET == FUZZ_IPADDR
static void fuzz_one(const uint8_t *data, size_t size)
{
        char *s = as_string(data, size);
        struct berth_ip_addr a, b;
        struct berth_err err = {0};
        if (berth_ip_addr_parse(s, &a, &err) == 0) {
                if ((a.family != AF_INET && a.family != AF_INET6) ||
                    a.prefixlen > (a.family == AF_INET ? 32 : 128))
                        abort();
                char buf[BERTH_IP_ADDR_STRLEN];
                berth_ip_addr_format(&a, true, buf, sizeof(buf));
                if (berth_ip_addr_parse(buf, &b, &err) < 0 || !berth_ip_addr_equal(&a, &b))
                        abort(); /* what we print must parse back to the same address */
                (void)berth_ip_addr_is_link_local(&a);
        } else if (!err.code || !err.msg[0]) {
                abort();
        }
        free(s);
}

#elif FUZZ_TARGET == FUZZ_PROC_STAT
static void fuzz_one(const uint8_t *data, size_t size)
{
        char *s = as_string(data, size);
        sink += berth_proc_stat_start_time(s) + berth_proc_stat_exited(s);
        free(s);
}

#else
#error "unknown FUZZ_TARGET"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_one(data, size);
        return 0;
}
