/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroups/: parsers, path resolution and OCI -> cgroupfs conversions.
 * No root needed: everything here works on buffers. */
#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/cpu_weight.h"
#include "cgroups/internal.h"

START_TEST(shares_to_weight)
{
        ck_assert_uint_eq(berth_cpu_shares_to_weight(2), 1);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(1024), 100);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(262144), 10000);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(1), 1);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(1000000), 10000);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(0), 0);
        uint64_t prev = 0;
        for (uint64_t s = 2; s <= 262144; s = s * 5 / 4 + 1) {
                uint64_t w = berth_cpu_shares_to_weight(s);
                ck_assert_uint_ge(w, prev);
                ck_assert_uint_ge(w, 1);
                ck_assert_uint_le(w, 10000);
                prev = w;
        }
        /* points off the powers of ten, rounded up */
        ck_assert_uint_eq(berth_cpu_shares_to_weight(10), 4);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(100), 17);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(512), 59);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(2048), 174);
}
END_TEST

/* shares -> weight -> shares lands on the largest shares of the same
 * weight: never below where it started, and the weight stays. */
START_TEST(shares_round_trip)
{
        /* every shares up to 4096, then a step of 1/1024 (one run of the
         * bisection each: all 262143 take seconds under load) */
        for (uint64_t s = 2; s <= 262144; s += s < 4096 ? 1 : s / 1024) {
                uint64_t w = berth_cpu_shares_to_weight(s);
                uint64_t back = berth_cpu_weight_to_shares(w);
                ck_assert_msg(back >= s && berth_cpu_shares_to_weight(back) == w,
                              "shares %llu -> weight %llu -> shares %llu", (unsigned long long)s,
                              (unsigned long long)w, (unsigned long long)back);
                ck_assert(back == 262144 || berth_cpu_shares_to_weight(back + 1) > w);
        }
        ck_assert_uint_eq(berth_cpu_weight_to_shares(0), 2);
        ck_assert_uint_eq(berth_cpu_weight_to_shares(1), 2);
        ck_assert_uint_eq(berth_cpu_weight_to_shares(20000), 262144);
}
END_TEST

START_TEST(cpu_max)
{
        char buf[64];
        struct berth_cpu c = {0};
        ck_assert_int_eq(cg_cpu_max(&c, NULL, buf, sizeof(buf)), 0);
        c.quota = (struct berth_opt_i64){true, 50000};
        c.period = (struct berth_opt_u64){true, 100000};
        cg_cpu_max(&c, NULL, buf, sizeof(buf));
        ck_assert_str_eq(buf, "50000 100000");
        c.quota.v = -1;
        cg_cpu_max(&c, NULL, buf, sizeof(buf));
        ck_assert_str_eq(buf, "max 100000");
        c.period.set = false;
        c.quota.v = 20000;
        cg_cpu_max(&c, "max 100000\n", buf, sizeof(buf));
        ck_assert_str_eq(buf, "20000");
        c.quota.set = false;
        c.period = (struct berth_opt_u64){true, 50000};
        cg_cpu_max(&c, "30000 100000\n", buf, sizeof(buf));
        ck_assert_str_eq(buf, "30000 50000");
        cg_cpu_max(&c, NULL, buf, sizeof(buf));
        ck_assert_str_eq(buf, "max 50000");
}
END_TEST

START_TEST(swap_semantics)
{
        struct berth_err err = {0};
        struct berth_memory m = {0};
        int64_t v;
        bool max;
        ck_assert_int_eq(cg_swap_v2(&m, &v, &max, &err), 0);
        /* OCI swap = memory+swap: v1 memsw takes it as is, v2 swap.max the difference */
        m.limit = (struct berth_opt_i64){true, 100 << 20};
        m.swap = (struct berth_opt_i64){true, 300 << 20};
        ck_assert_int_eq(cg_swap_v2(&m, &v, &max, &err), 1);
        ck_assert(!max);
        ck_assert_int_eq(v, 200 << 20);
        m.swap.v = 100 << 20; /* no swap at all */
        ck_assert_int_eq(cg_swap_v2(&m, &v, &max, &err), 1);
        ck_assert_int_eq(v, 0);
        m.swap.v = -1;
        ck_assert_int_eq(cg_swap_v2(&m, &v, &max, &err), 1);
        ck_assert(max);
        m.swap.v = 50 << 20;
        ck_assert_int_lt(cg_swap_v2(&m, &v, &max, &err), 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "memory.swap"));
        m.limit.set = false;
        m.swap.v = 300 << 20;
        ck_assert_int_lt(cg_swap_v2(&m, &v, &max, &err), 0);
        char b[32];
        cg_fmt_limit(-1, b, sizeof(b));
        ck_assert_str_eq(b, "max");
        cg_fmt_limit(4096, b, sizeof(b));
        ck_assert_str_eq(b, "4096");
}
END_TEST

START_TEST(blkio_weight)
{
        ck_assert_uint_eq(cg_blkio_to_io_weight(10), 1);
        ck_assert_uint_eq(cg_blkio_to_io_weight(1000), 10000);
        ck_assert_uint_eq(cg_blkio_to_io_weight(500), 4950);
        ck_assert_uint_eq(cg_blkio_to_io_weight(0), 0);
        char s[16];
        ck_assert_int_eq(cg_hugepage_size("2MB", s, sizeof(s)), 0);
        ck_assert_str_eq(s, "2MB");
        ck_assert_int_lt(cg_hugepage_size("2M", s, sizeof(s)), 0);
        ck_assert_int_lt(cg_hugepage_size("../x", s, sizeof(s)), 0);
}
END_TEST

static struct berth_device_rule rule(bool allow, char type, int64_t ma, int64_t mi, const char *acc)
{
        struct berth_device_rule r = {.allow = allow, .type = type, .major = ma, .minor = mi};
        strcpy(r.access, acc);
        return r;
}

START_TEST(device_v1_lines)
{
        char b[64];
        struct berth_device_rule r = rule(true, 'c', 1, 3, "rwm");
        cg_dev_v1_line(&r, b, sizeof(b));
        ck_assert_str_eq(b, "c 1:3 rwm");
        r = rule(true, 'b', -1, -1, "m");
        cg_dev_v1_line(&r, b, sizeof(b));
        ck_assert_str_eq(b, "b *:* m");
        r = rule(false, 'c', 136, -1, "rw");
        cg_dev_v1_line(&r, b, sizeof(b));
        ck_assert_str_eq(b, "c 136:* rw");
        r = rule(false, 'a', -1, -1, "rwm");
        cg_dev_v1_line(&r, b, sizeof(b));
        ck_assert_str_eq(b, "a");

        struct berth_resources res = {0};
        struct berth_device_rule spec[] = {rule(true, 'c', 1, 3, "rwm"), rule(true, 'a', 7, -1, "r")};
        res.devices = spec;
        res.n_devices = 2;
        struct cg_dev_rules d = {0};
        ck_assert_int_eq(cg_dev_rules_build(&res, false, &d), 0);
        struct cg_dev_v1_write *w;
        size_t n;
        ck_assert_int_eq(cg_dev_v1_plan(&d, &w, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(w[0].file, "devices.deny");
        ck_assert_str_eq(w[0].line, "a");
        ck_assert_str_eq(w[1].file, "devices.allow");
        ck_assert_str_eq(w[1].line, "c 1:3 rwm");
        /* a partial "a" rule must not become v1's reset-everything "a" */
        ck_assert_str_eq(w[2].line, "c 7:* r");
        ck_assert_str_eq(w[3].line, "b 7:* r");
        free(w);
        cg_dev_rules_clear(&d);

        /* allow everything, then deny /dev/full: the last "a" is the reset */
        struct berth_device_rule spec2[] = {rule(true, 'a', -1, -1, "rwm"), rule(false, 'c', 1, 7, "rwm")};
        res.devices = spec2;
        ck_assert_int_eq(cg_dev_rules_build(&res, true, &d), 0);
        ck_assert_int_eq(cg_dev_v1_plan(&d, &w, &n), 0);
        ck_assert_str_eq(w[0].file, "devices.allow");
        ck_assert_str_eq(w[0].line, "a");
        ck_assert_str_eq(w[1].file, "devices.deny");
        ck_assert_str_eq(w[1].line, "c 1:7 rwm");
        ck_assert_str_eq(w[2].line, "c *:* m"); /* then runc's defaults */
        ck_assert_uint_eq(n, 2 + 10);
        free(w);
        cg_dev_rules_clear(&d);
}
END_TEST

/* A tiny interpreter for the instructions the device filter uses, so the
 * program's semantics are tested without loading it. */
static int run_bpf(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major,
                   uint32_t minor)
{
        uint32_t ctx[3] = {(access << 16) | type, major, minor};
        uint64_t r[11] = {0};
        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
                uint64_t *d = &r[i->dst_reg],
                         s = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
                if (cls == BPF_LDX) {
                        ck_assert(i->src_reg == 1);
                        *d = ctx[i->off / 4];
                } else if (cls == BPF_ALU || cls == BPF_ALU64) {
                        uint64_t v = op == BPF_MOV   ? s
                                     : op == BPF_AND ? (*d & s)
                                     : op == BPF_RSH ? (*d >> s)
                                                     : ~0ull;
                        ck_assert(op == BPF_MOV || op == BPF_AND || op == BPF_RSH);
                        *d = cls == BPF_ALU ? (uint32_t)v : v;
                } else if (cls == BPF_JMP && op == BPF_EXIT) {
                        return (int)r[0];
                } else if (cls == BPF_JMP && op == BPF_JA) {
                        pc += i->off;
                } else {
                        ck_assert(cls == BPF_JMP32);
                        uint32_t a = (uint32_t)*d, b = (uint32_t)s;
                        bool t = op == BPF_JNE    ? a != b
                                 : op == BPF_JEQ  ? a == b
                                 : op == BPF_JSET ? (a & b) != 0
                                                  : false;
                        ck_assert(op == BPF_JNE || op == BPF_JEQ || op == BPF_JSET);
                        if (t)
                                pc += i->off;
                }
        }
        ck_abort_msg("program ran off its end");
        return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

START_TEST(device_bpf_semantics)
{
        struct berth_device_rule spec[] = {
            rule(true, 'c', 1, -1, "rw"),   /* all mem devices, read/write */
            rule(false, 'c', 1, 7, "w"),    /* but /dev/full not for writing */
            rule(true, 'b', 8, 0, "r"),     /* sda read only */
            rule(false, 'a', 250, -1, "m"), /* no mknod of major 250 */
        };
        struct berth_resources res = {.devices = spec, .n_devices = BERTH_ARRAY_SIZE(spec)};
        struct cg_dev_rules d = {0};
        ck_assert_int_eq(cg_dev_rules_build(&res, false, &d), 0);
        struct bpf_insn *p;
        size_t n;
        ck_assert_int_eq(cg_dev_bpf_build(&d, &p, &n), 0);
        ck_assert_int_eq(run_bpf(p, n, C, R | W, 1, 3), 1);
        ck_assert_int_eq(run_bpf(p, n, C, M, 1, 3), 0);     /* m not granted */
        ck_assert_int_eq(run_bpf(p, n, C, R, 1, 7), 1);     /* full readable */
        ck_assert_int_eq(run_bpf(p, n, C, R | W, 1, 7), 0); /* O_RDWR hits the deny w */
        ck_assert_int_eq(run_bpf(p, n, C, W, 1, 7), 0);
        ck_assert_int_eq(run_bpf(p, n, B, R, 8, 0), 1);
        ck_assert_int_eq(run_bpf(p, n, B, W, 8, 0), 0);
        ck_assert_int_eq(run_bpf(p, n, B, R, 8, 1), 0); /* default deny */
        ck_assert_int_eq(run_bpf(p, n, C, R, 5, 0), 0);
        free(p);
        cg_dev_rules_clear(&d);

        /* with runc's defaults appended: tty, ptmx, pts, and mknod anything */
        ck_assert_int_eq(cg_dev_rules_build(&res, true, &d), 0);
        ck_assert_int_eq(cg_dev_bpf_build(&d, &p, &n), 0);
        ck_assert_int_eq(run_bpf(p, n, C, R | W, 5, 0), 1);
        ck_assert_int_eq(run_bpf(p, n, C, R | W, 136, 4), 1);
        ck_assert_int_eq(run_bpf(p, n, C, M, 250, 1), 1); /* defaults come last and win */
        ck_assert_int_eq(run_bpf(p, n, B, R, 8, 1), 0);
        free(p);
        cg_dev_rules_clear(&d);

        /* allow everything: one unconditional block, nothing after */
        struct berth_device_rule all[] = {rule(true, 'a', -1, -1, "rwm")};
        res.devices = all;
        res.n_devices = 1;
        ck_assert_int_eq(cg_dev_rules_build(&res, false, &d), 0);
        ck_assert_int_eq(cg_dev_bpf_build(&d, &p, &n), 0);
        ck_assert_uint_eq(n, 6 + 2);
        ck_assert_int_eq(run_bpf(p, n, B, R | W | M, 259, 3), 1);
        free(p);
        cg_dev_rules_clear(&d);
}
END_TEST

static const char hybrid_mountinfo[] =
    "23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "37 31 0:34 / /sys/fs/cgroup/net_cls,net_prio rw shared:9 - cgroup cgroup rw,net_cls,net_prio\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "42 31 0:32 /sub /mnt/mem\\040x rw - cgroup cgroup rw,memory\n";

static const char hybrid_proc[] = "9:name=systemd:/user.slice\n"
                                  "8:net_cls,net_prio:/\n"
                                  "4:memory:/process_api/6f41\n"
                                  "3:cpuset:/\n"
                                  "2:cpuacct:/\n"
                                  "1:cpu:/a\n"
                                  "0::/uni\n";

static const struct cg_mount *find(const struct cg_host *h, bool unified, unsigned mask)
{
        for (size_t i = 0; i < h->n; i++)
                if (h->m[i].unified == unified && (unified || h->m[i].mask == mask))
                        return &h->m[i];
        return NULL;
}

START_TEST(parse_host)
{
        struct berth_err err = {0};
        struct cg_host h = {0};
        ck_assert_int_eq(cg_parse_mountinfo(hybrid_mountinfo, &h, &err), 0);
        ck_assert_int_eq(cg_parse_proc_cgroup(hybrid_proc, &h, &err), 0);
        ck_assert_uint_eq(h.n, 7); /* the second memory mount is a bind mount */
        const struct cg_mount *m = find(&h, false, CG_BIT(CG_MEMORY));
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->mountpoint, "/sys/fs/cgroup/memory");
        ck_assert_str_eq(m->own, "/process_api/6f41");
        m = find(&h, false, CG_BIT(CG_NET_CLS) | CG_BIT(CG_NET_PRIO));
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->mountpoint, "/sys/fs/cgroup/net_cls,net_prio");
        ck_assert_str_eq(find(&h, false, CG_BIT(CG_CPU))->own, "/a");
        ck_assert_str_eq(find(&h, true, 0)->own, "/uni");
        ck_assert_str_eq(find(&h, true, 0)->mountpoint, "/sys/fs/cgroup/unified");
        bool named = false;
        for (size_t i = 0; i < h.n; i++)
                if (h.m[i].name && strcmp(h.m[i].name, "systemd") == 0) {
                        named = true;
                        ck_assert_str_eq(h.m[i].own, "/user.slice");
                        ck_assert_uint_eq(h.m[i].mask, 0);
                }
        ck_assert(named);
        cg_host_clear(&h);

        /* escaped mount points; bind-mounted sub-trees */
        struct cg_host h2 = {0};
        ck_assert_int_eq(
            cg_parse_mountinfo("42 31 0:32 /sub /mnt/mem\\040x rw - cgroup cgroup rw,memory\n", &h2, &err),
            0);
        ck_assert_str_eq(h2.m[0].mountpoint, "/mnt/mem x");
        ck_assert_str_eq(h2.m[0].root, "/sub");
        cg_host_clear(&h2);

        char *p = cg_proc_cgroup_path(hybrid_proc, false, CG_BIT(CG_MEMORY), NULL);
        ck_assert_str_eq(p, "/process_api/6f41");
        free(p);
        p = cg_proc_cgroup_path(hybrid_proc, true, 0, NULL);
        ck_assert_str_eq(p, "/uni");
        free(p);
        ck_assert_ptr_null(cg_proc_cgroup_path(hybrid_proc, false, CG_BIT(CG_PIDS), NULL));
        /* A named hierarchy by its name, and only by it. */
        p = cg_proc_cgroup_path(hybrid_proc, false, 0, "systemd");
        ck_assert_str_eq(p, "/user.slice");
        free(p);
        ck_assert_ptr_null(cg_proc_cgroup_path(hybrid_proc, false, 0, "elogind"));
        ck_assert_ptr_null(cg_proc_cgroup_path(hybrid_proc, false, 0, NULL));
}
END_TEST

START_TEST(layout_magic)
{
        ck_assert_int_eq(cg_layout_from_magic(CGROUP2_SUPER_MAGIC, 0), BERTH_CG_UNIFIED);
        ck_assert_int_eq(cg_layout_from_magic(TMPFS_MAGIC, CGROUP2_SUPER_MAGIC), BERTH_CG_HYBRID);
        ck_assert_int_eq(cg_layout_from_magic(TMPFS_MAGIC, TMPFS_MAGIC), BERTH_CG_LEGACY);
        ck_assert_int_eq(cg_layout_from_magic(TMPFS_MAGIC, 0), BERTH_CG_LEGACY);
}
END_TEST

START_TEST(resolve)
{
        struct berth_err err = {0};
        char *p = cg_resolve_path("/process_api/x", "berth-test-1/c1", "id", &err);
        ck_assert_str_eq(p, "/process_api/x/berth-test-1/c1");
        free(p);
        p = cg_resolve_path("/", "berth-test-1//./c1/", "id", &err);
        ck_assert_str_eq(p, "/berth-test-1/c1");
        free(p);
        p = cg_resolve_path("/own", "/abs/path", "id", &err);
        ck_assert_str_eq(p, "/abs/path");
        free(p);
        p = cg_resolve_path("/own", NULL, "ctr1", &err);
        ck_assert_str_eq(p, "/own/berth/ctr1");
        free(p);
        p = cg_resolve_path("/", NULL, "ctr1", &err);
        ck_assert_str_eq(p, "/berth/ctr1");
        free(p);
        ck_assert_ptr_null(cg_resolve_path("/own", "../escape", "id", &err));
        ck_assert_ptr_nonnull(strstr(err.msg, ".."));
        ck_assert_ptr_null(cg_resolve_path("/own", "/", "id", &err));
        ck_assert_ptr_null(cg_resolve_path("/own", NULL, "a/b", &err));

        p = cg_fs_dir("/sys/fs/cgroup/memory", "/", "/a/b", &err);
        ck_assert_str_eq(p, "/sys/fs/cgroup/memory/a/b");
        free(p);
        p = cg_fs_dir("/mnt/m", "/sub", "/sub/c", &err);
        ck_assert_str_eq(p, "/mnt/m/c");
        free(p);
        ck_assert_ptr_null(cg_fs_dir("/mnt/m", "/sub", "/subx/c", &err));
}
END_TEST

START_TEST(needed_v1)
{
        struct berth_resources r = {0};
        ck_assert_uint_eq(cg_needed_v1(NULL, BERTH_CG_HYBRID), 0);
        ck_assert_uint_eq(cg_needed_v1(&r, BERTH_CG_HYBRID), 0);
        r.memory.limit = (struct berth_opt_i64){true, 1 << 20};
        r.pids_limit = (struct berth_opt_i64){true, 10};
        r.cpu.cpus = "0";
        ck_assert_uint_eq(cg_needed_v1(&r, BERTH_CG_HYBRID),
                          CG_BIT(CG_MEMORY) | CG_BIT(CG_PIDS) | CG_BIT(CG_CPUSET));
        /* kernel memory alone is only a warning: no hierarchy for it */
        struct berth_resources k = {0};
        k.memory.kernel = (struct berth_opt_i64){true, 1 << 20};
        ck_assert_uint_eq(cg_needed_v1(&k, BERTH_CG_HYBRID), 0);
        unsigned legacy = cg_needed_v1(&k, BERTH_CG_LEGACY);
        ck_assert(legacy & CG_BIT(CG_FREEZER));
        ck_assert(legacy & CG_BIT(CG_DEVICES));
}
END_TEST

START_TEST(stat_parsers)
{
        uint64_t v = 0;
        const char *ev = "low 0\nhigh 2\nmax 17\noom 3\noom_kill 1\noom_group_kill 0\n";
        ck_assert(cg_keyed_u64(ev, "max", &v));
        ck_assert_uint_eq(v, 17);
        ck_assert(cg_keyed_u64(ev, "oom_kill", &v));
        ck_assert_uint_eq(v, 1);
        ck_assert(cg_keyed_u64(ev, "oom", &v));
        ck_assert_uint_eq(v, 3);
        ck_assert(!cg_keyed_u64(ev, "oo", &v));
        ck_assert(cg_keyed_u64("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n", "oom_kill", &v));
        ck_assert_uint_eq(v, 4);
        uint64_t rb, wb, ri, wi;
        cg_parse_io_stat("8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n"
                         "253:1 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n",
                         &rb, &wb, &ri, &wi);
        ck_assert_uint_eq(rb, 101);
        ck_assert_uint_eq(wb, 202);
        ck_assert_uint_eq(ri, 4);
        ck_assert_uint_eq(wi, 5);
        uint64_t r, w;
        cg_parse_blkio("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n"
                       "8:16 Read 1\n8:16 Write 0\nTotal 12289\n",
                       &r, &w);
        ck_assert_uint_eq(r, 4097);
        ck_assert_uint_eq(w, 8192);
}
END_TEST

START_TEST(dump_restore)
{
        struct berth_err err = {0};
        struct berth_cgroup cg = {.layout = BERTH_CG_HYBRID, .id = "c1", .default_devices = true};
        struct cg_hier h[2] = {
            {.unified = true,
             .name = "unified",
             .path = "/x/c1",
             .dir = "/nonexistent/u/x/c1",
             .mount_len = 13,
             .n_existing = 1,
             .fd = -EBADF},
            {.mask = CG_BIT(CG_MEMORY),
             .name = "memory",
             .path = "/m/x/c1",
             .dir = "/nonexistent/m/m/x/c1",
             .mount_len = 14,
             .n_existing = 2,
             .fd = -EBADF},
        };
        cg.h = h;
        cg.n = 2;
        char *s = berth_cgroup_dump(&cg);
        ck_assert_ptr_nonnull(s);
        struct berth_cgroup *r = berth_cgroup_restore(s, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        ck_assert_int_eq(r->layout, BERTH_CG_HYBRID);
        ck_assert_uint_eq(r->n, 2);
        ck_assert_str_eq(r->h[1].dir, "/nonexistent/m/m/x/c1");
        ck_assert_int_eq(r->h[1].n_existing, 2);
        ck_assert_uint_eq(r->h[1].mask, CG_BIT(CG_MEMORY));
        ck_assert_str_eq(berth_cgroup_path(r), "/x/c1");
        ck_assert_int_eq(berth_cgroup_clone_fd(r), -1); /* dir does not exist */
        berth_cgroup_free(r);
        free(s);
        ck_assert_ptr_null(berth_cgroup_restore("{\"version\":2}", &err));
        ck_assert_ptr_null(berth_cgroup_restore("not json", &err));
}
END_TEST

/* The level above a container (pure v2): its path, and whether it is the
 * container's own (made by its create) or was there before. */
START_TEST(parent_level)
{
        struct berth_err err = {0};
        struct cg_hier u = {.unified = true,
                            .name = "unified",
                            .path = "/own/berth-vps-a/guest",
                            .dir = "/sys/fs/cgroup/own/berth-vps-a/guest",
                            .mount_len = 14,
                            .n_existing = 1, /* /own existed: both levels below are the create's */
                            .fd = -EBADF};
        struct berth_cgroup cg = {.layout = BERTH_CG_UNIFIED, .id = "vps-a", .h = &u, .n = 1};
        struct berth_cgroup *p = berth_cgroup_parent(&cg, &err);
        ck_assert_msg(p != NULL, "%s", err.msg);
        ck_assert_int_eq(berth_cgroup_layout(p), BERTH_CG_UNIFIED);
        ck_assert_str_eq(berth_cgroup_path(p), "/own/berth-vps-a");
        ck_assert_str_eq(p->h[0].dir, "/sys/fs/cgroup/own/berth-vps-a");
        ck_assert_int_eq(p->h[0].n_existing, 1);
        berth_cgroup_free(p);
        /* The parent existed before the create: never the parent object's to remove. */
        u.n_existing = 2;
        p = berth_cgroup_parent(&cg, &err);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->h[0].n_existing, -1);
        berth_cgroup_free(p);
        /* Right below the root: the parent is the hierarchy's root, not ours. */
        u.path = "/guest";
        u.dir = "/sys/fs/cgroup/guest";
        ck_assert_ptr_null(berth_cgroup_parent(&cg, &err));
        ck_assert_int_eq(err.code, EINVAL);
        ck_assert_int_eq(berth_cgroup_attach_child(&cg, "a/b", 1, &err), -EINVAL);
        ck_assert_int_eq(berth_cgroup_attach_child(&cg, "..", 1, &err), -EINVAL);
        /* Hybrid: the limits are v1, there is no parent level to keep. */
        cg.layout = BERTH_CG_HYBRID;
        ck_assert_ptr_null(berth_cgroup_parent(&cg, &err));
        ck_assert_int_eq(err.code, EOPNOTSUPP);
        ck_assert_int_eq(berth_cgroup_attach_child(&cg, "console", 1, &err), -EOPNOTSUPP);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("cgroup");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, shares_to_weight);
        tcase_add_test(tc, shares_round_trip);
        tcase_add_test(tc, cpu_max);
        tcase_add_test(tc, swap_semantics);
        tcase_add_test(tc, blkio_weight);
        tcase_add_test(tc, device_v1_lines);
        tcase_add_test(tc, device_bpf_semantics);
        tcase_add_test(tc, parse_host);
        tcase_add_test(tc, layout_magic);
        tcase_add_test(tc, resolve);
        tcase_add_test(tc, needed_v1);
        tcase_add_test(tc, stat_parsers);
        tcase_add_test(tc, dump_restore);
        tcase_add_test(tc, parent_level);
        suite_add_tcase(s, tc);
        return s;
}
