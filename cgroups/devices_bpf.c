/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device allowlist as a BPF_CGROUP_DEVICE program, built by hand (no
 * libbpf, no compiler at run time) and attached to the container's cgroup2
 * directory.
 *
 * The program checks the rules from the last to the first and returns the
 * verdict of the first that matches, i.e. the last matching rule in spec
 * order wins; nothing matching means deny. An allow rule matches when the
 * requested access is a subset of the rule's; a deny rule when they
 * overlap -- otherwise "deny w" would let an O_RDWR open through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

#define INSN(c, d, s, o, i)                                                                                  \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static unsigned access_bits(const char *a)
{
        unsigned b = 0;
        if (strchr(a, 'm'))
                b |= BPF_DEVCG_ACC_MKNOD;
        if (strchr(a, 'r'))
                b |= BPF_DEVCG_ACC_READ;
        if (strchr(a, 'w'))
                b |= BPF_DEVCG_ACC_WRITE;
        return b;
}

static bool rule_matches_all(const struct berth_device_rule *r)
{
        return r->type == 'a' && r->major < 0 && r->minor < 0 && access_bits(r->access) == 7;
}

/* Emits one rule's block; every failed test jumps to the block's end. */
static size_t emit_rule(struct bpf_insn *p, const struct berth_device_rule *r)
{
        unsigned acc = r->access[0] ? access_bits(r->access) : 7;
        bool t = r->type != 'a', a = acc != 7, ma = r->major >= 0, mi = r->minor >= 0;
        size_t acc_len = a ? (r->allow ? 1 : 3) : 0;
        size_t len = (size_t)t + acc_len + ma + mi + 2, i = 0;
#define TO_END ((short)(len - i - 1))
        if (t) {
                int dev = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
                p[i] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_3, 0, TO_END, dev);
                i++;
        }
        if (a && r->allow) {
                /* any requested bit outside the rule's: no match */
                p[i] = INSN(BPF_JMP32 | BPF_JSET | BPF_K, BPF_REG_2, 0, TO_END, (int)(~acc & 7));
                i++;
        } else if (a) {
                /* no requested bit inside the rule's: no match */
                p[i++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0);
                p[i++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, (int)acc);
                p[i] = INSN(BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_0, 0, TO_END, 0);
                i++;
        }
        if (ma) {
                p[i] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, TO_END, (int)r->major);
                i++;
        }
        if (mi) {
                p[i] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, TO_END, (int)r->minor);
                i++;
        }
#undef TO_END
        p[i++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
        p[i++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return i;
}

int cg_dev_bpf_build(const struct cg_dev_rules *d, struct bpf_insn **out, size_t *n_out)
{
        /* prologue 6 + at most 8 per rule + epilogue 2 */
        struct bpf_insn *p = calloc(6 + 8 * d->n + 2, sizeof(*p));
        if (!p)
                return -ENOMEM;
        size_t n = 0;
        /* r2 = access, r3 = type, r4 = major, r5 = minor */
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
        p[n++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
        p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
        p[n++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
        bool terminal = false;
        for (size_t k = d->n; k-- > 0;) {
                const struct berth_device_rule *r = &d->r[k];
                if (r->type != 'a' && r->type != 'c' && r->type != 'b') {
                        free(p);
                        return -EINVAL;
                }
                n += emit_rule(p + n, r);
                /* Everything below an all-matching rule is unreachable. */
                if (rule_matches_all(r)) {
                        terminal = true;
                        break;
                }
        }
        if (!terminal) {
                p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
                p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }
        *out = p;
        *n_out = n;
        return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct berth_err *err)
{
        static const char license[] = "GPL";
        char log[4096] = "";
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t)(uintptr_t)insns;
        a.insn_cnt = (uint32_t)n;
        a.license = (uint64_t)(uintptr_t)license;
        a.prog_flags = 0;
        int fd = sys_bpf(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        int e = errno;
        /* Load again with the verifier log so the error says why. */
        a.log_buf = (uint64_t)(uintptr_t)log;
        a.log_size = sizeof(log);
        a.log_level = 1;
        fd = sys_bpf(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        log[sizeof(log) - 1] = '\0';
        return berth_err_sys(err, e, "devices: load the eBPF device filter%s%.300s", log[0] ? ": " : "", log);
}

/* Ids of the device programs attached to the cgroup now (to detach after
 * the new one is in place, so there is no window without a filter). */
static int query_attached(int cgfd, uint32_t *ids, uint32_t *cnt)
{
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.query.target_fd = (uint32_t)cgfd;
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = (uint64_t)(uintptr_t)ids;
        a.query.prog_cnt = *cnt;
        if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
                return -errno;
        *cnt = a.query.prog_cnt;
        return 0;
}

static int detach_id(int cgfd, uint32_t id)
{
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.prog_id = id;
        _cleanup_close_ int pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
        if (pfd < 0)
                return -errno;
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t)cgfd;
        a.attach_bpf_fd = (uint32_t)pfd;
        a.attach_type = BPF_CGROUP_DEVICE;
        return sys_bpf(BPF_PROG_DETACH, &a) < 0 ? -errno : 0;
}

int cg_dev_bpf_apply(int cgfd, const struct bpf_insn *insns, size_t n, struct berth_err *err)
{
        uint32_t old[64], n_old = BERTH_ARRAY_SIZE(old);
        if (query_attached(cgfd, old, &n_old) < 0)
                n_old = 0;
        _cleanup_close_ int prog = prog_load(insns, n, err);
        if (prog < 0)
                return prog;
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t)cgfd;
        a.attach_bpf_fd = (uint32_t)prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
                return berth_err_sys(err, errno, "devices: attach the eBPF device filter");
        for (uint32_t i = 0; i < n_old && i < BERTH_ARRAY_SIZE(old); i++) {
                int r = detach_id(cgfd, old[i]);
                if (r < 0 && r != -ENOENT)
                        return berth_err_sys(err, -r, "devices: detach the previous device filter");
        }
        return 0;
}

int cg_dev_bpf_clear(int cgfd, struct berth_err *err)
{
        if (cgfd < 0)
                return cgfd;
        uint32_t ids[64], n = BERTH_ARRAY_SIZE(ids);
        int r = query_attached(cgfd, ids, &n);
        if (r < 0)
                return berth_err_sys(err, -r, "devices: list the eBPF device filters");
        for (uint32_t i = 0; i < n && i < BERTH_ARRAY_SIZE(ids); i++)
                if ((r = detach_id(cgfd, ids[i])) < 0 && r != -ENOENT)
                        return berth_err_sys(err, -r, "devices: detach the eBPF device filter");
        return 0;
}
