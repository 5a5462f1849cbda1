/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.seccomp -> BPF program (built by libseccomp) -> seccomp(2).
 *
 * The rules follow runc's reading of the profile, which is what existing
 * profiles are written against:
 *  - a syscall name libseccomp does not know is skipped: profiles list the
 *    syscalls of newer kernels and other architectures;
 *  - a rule whose action is the default action is skipped (libseccomp
 *    refuses it, and it would change nothing);
 *  - a syscall numbered above every one the profile names gets ENOSYS
 *    (runtime/seccomp/enosys.c);
 *  - args with distinct indexes form one rule (all comparisons must hold);
 *    when an index repeats, every arg becomes a rule of its own (any one
 *    may match), since one libseccomp rule cannot compare an argument twice.
 *
 * libseccomp only generates the program: we load it with seccomp(2) so that
 * every kernel flag is available even where libseccomp 2.5 lacks the
 * attribute (WAIT_KILLABLE_RECV). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/seccomp.h"
#include "runtime/seccomp/enosys.h"

#define BPF_MAX_INSNS 4096 /* BPF_MAXINSNS: the kernel's limit per program */

struct berth_seccomp_filter {
        struct sock_filter *insns;
        size_t len;
        unsigned long flags; /* SECCOMP_FILTER_FLAG_* */
        bool notify;
};

static void ctx_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static int to_scmp_action(enum berth_seccomp_action a, bool has_errno, unsigned errno_ret, uint32_t *out,
                          struct berth_err *err)
{
        if (has_errno && a != BERTH_SCMP_ACT_ERRNO && a != BERTH_SCMP_ACT_TRACE)
                return berth_err_set(err, EINVAL,
                                     "errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
        /* The action's data field is 16 bits wide (SECCOMP_RET_DATA). */
        if (has_errno && errno_ret > 0xffff)
                return berth_err_set(err, EINVAL, "errnoRet %u is out of range (0-65535)", errno_ret);
        unsigned data = has_errno ? errno_ret : EPERM;

        switch (a) {
        case BERTH_SCMP_ACT_KILL:
        case BERTH_SCMP_ACT_KILL_THREAD:
                *out = SCMP_ACT_KILL_THREAD;
                return 0;
        case BERTH_SCMP_ACT_KILL_PROCESS:
                *out = SCMP_ACT_KILL_PROCESS;
                return 0;
        case BERTH_SCMP_ACT_TRAP:
                *out = SCMP_ACT_TRAP;
                return 0;
        case BERTH_SCMP_ACT_ERRNO:
                *out = SCMP_ACT_ERRNO(data);
                return 0;
        case BERTH_SCMP_ACT_TRACE:
                /* The tracer receives errnoRet as the event message; EPERM
                 * when absent, as runc does. */
                *out = SCMP_ACT_TRACE(data);
                return 0;
        case BERTH_SCMP_ACT_ALLOW:
                *out = SCMP_ACT_ALLOW;
                return 0;
        case BERTH_SCMP_ACT_LOG:
                *out = SCMP_ACT_LOG;
                return 0;
        case BERTH_SCMP_ACT_NOTIFY:
                *out = SCMP_ACT_NOTIFY;
                return 0;
        }
        return berth_err_set(err, EINVAL, "unknown seccomp action %d", (int)a);
}

static int to_scmp_op(enum berth_seccomp_op op, enum scmp_compare *out, struct berth_err *err)
{
        static const enum scmp_compare map[] = {
            [BERTH_SCMP_OP_NE] = SCMP_CMP_NE,
            [BERTH_SCMP_OP_LT] = SCMP_CMP_LT,
            [BERTH_SCMP_OP_LE] = SCMP_CMP_LE,
            [BERTH_SCMP_OP_EQ] = SCMP_CMP_EQ,
            [BERTH_SCMP_OP_GE] = SCMP_CMP_GE,
            [BERTH_SCMP_OP_GT] = SCMP_CMP_GT,
            [BERTH_SCMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
        };
        if ((unsigned)op >= BERTH_ARRAY_SIZE(map))
                return berth_err_set(err, EINVAL, "unknown seccomp operator %d", (int)op);
        *out = map[op];
        return 0;
}

static int add_arch(scmp_filter_ctx ctx, const char *name, struct berth_err *err)
{
        uint32_t token = berth_seccomp_arch_token(name);
        if (token == 0)
                return berth_err_set(err, EINVAL, "unknown architecture \"%s\"", name);
        int r = seccomp_arch_add(ctx, token);
        if (r < 0 && r != -EEXIST) /* the native arch is always there */
                return berth_err_sys(err, -r, "add architecture \"%s\"", name);
        return 0;
}

static int build_conditions(const struct berth_seccomp_rule *rule, struct scmp_arg_cmp *cmp, bool *split,
                            struct berth_err *err)
{
        unsigned seen = 0;

        *split = false;
        for (size_t i = 0; i < rule->n_args; i++) {
                const struct berth_seccomp_arg *a = &rule->args[i];
                enum scmp_compare op = SCMP_CMP_EQ;
                if (a->index >= 6) /* syscalls have at most six arguments */
                        return berth_err_set(err, EINVAL, "argument index %u is out of range (0-5)",
                                             a->index);
                int r = to_scmp_op(a->op, &op, err);
                if (r < 0)
                        return r;
                if (seen & (1u << a->index))
                        *split = true;
                seen |= 1u << a->index;
                cmp[i] = (struct scmp_arg_cmp){
                    .arg = a->index, .op = op, .datum_a = a->value, .datum_b = a->value_two};
        }
        return 0;
}

static int add_syscall(scmp_filter_ctx ctx, const struct berth_seccomp_rule *rule, const char *name,
                       uint32_t act, const struct scmp_arg_cmp *cmp, bool split, struct berth_err *err)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0; /* not a syscall this libseccomp knows: skipped */

        int r = 0;
        if (!split) {
                r = seccomp_rule_add_array(ctx, act, nr, (unsigned)rule->n_args, cmp);
        } else {
                for (size_t i = 0; i < rule->n_args && r >= 0; i++)
                        r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
        }
        if (r < 0)
                return berth_err_sys(err, -r, "add rule for syscall \"%s\"", name);
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct berth_seccomp_rule *rule, uint32_t default_act,
                    bool *notify, struct berth_err *err)
{
        struct scmp_arg_cmp cmp[6 * 8];
        uint32_t act;
        bool split;
        int r;

        if ((r = to_scmp_action(rule->action, rule->has_errno_ret, rule->errno_ret, &act, err)) < 0)
                return r;
        if (act == default_act)
                return 0;
        if (rule->n_args > BERTH_ARRAY_SIZE(cmp))
                return berth_err_set(err, EINVAL, "too many args (%zu)", rule->n_args);
        if ((r = build_conditions(rule, cmp, &split, err)) < 0)
                return r;
        if (rule->action == BERTH_SCMP_ACT_NOTIFY)
                *notify = true;
        for (size_t i = 0; i < rule->n_names; i++)
                if ((r = add_syscall(ctx, rule, rule->names[i], act, cmp, split, err)) < 0)
                        return r;
        return 0;
}

static int kernel_flags(const struct berth_seccomp *s, bool notify, unsigned long *out, struct berth_err *err)
{
        static const unsigned all[] = {BERTH_SCMP_FLAG_LOG, BERTH_SCMP_FLAG_SPEC_ALLOW,
                                       BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV};
        unsigned long flags = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;

        if (s->flags & ~(unsigned)(BERTH_SCMP_FLAG_LOG | BERTH_SCMP_FLAG_SPEC_ALLOW |
                                   BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV))
                return berth_err_set(err, EINVAL, "unknown flags 0x%x", s->flags);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(all); i++) {
                if (!(s->flags & all[i]))
                        continue;
                if (!berth_seccomp_flag_supported(all[i]))
                        return berth_err_set(err, EOPNOTSUPP,
                                             "flag %s is not supported by the running kernel",
                                             berth_seccomp_flag_name(all[i]));
                /* WAIT_KILLABLE_RECV changes how a notifying task waits for
                 * the listener; the kernel refuses it on a filter without
                 * one, where it has no meaning, so it is dropped there. */
                if (all[i] == BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV && !notify)
                        continue;
                flags |= berth_seccomp_kernel_flag(all[i]);
        }
        *out = flags;
        return 0;
}

/* libseccomp 2.5 exports only to an fd: go through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, struct berth_seccomp_filter *f, struct berth_err *err)
{
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return berth_err_sys(err, errno, "memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return berth_err_sys(err, -r, "generate the BPF program");
        if (fstat(fd, &st) < 0)
                return berth_err_sys(err, errno, "fstat");
        size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
        if (n == 0 || n > BPF_MAX_INSNS)
                return berth_err_set(err, E2BIG, "the filter has %zu BPF instructions (limit %d)", n,
                                     BPF_MAX_INSNS);
        f->insns = calloc(n, sizeof(struct sock_filter));
        if (!f->insns)
                return berth_err_sys(err, ENOMEM, "allocate the BPF program");
        if (pread(fd, f->insns, n * sizeof(struct sock_filter), 0) !=
            (ssize_t)(n * sizeof(struct sock_filter)))
                return berth_err_sys(err, EIO, "read back the BPF program");
        f->len = n;
        return 0;
}

static int compile_into(const struct berth_seccomp *s, struct berth_seccomp_filter *f, struct berth_err *err)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        uint32_t def;
        int r;

        if ((r = to_scmp_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def,
                                err)) < 0)
                return berth_err_wrap(err, "defaultAction");
        if (!(ctx = seccomp_init(def)))
                return berth_err_set(err, EINVAL, "defaultAction: not usable as a default action");
        /* We set no_new_privs ourselves, at the right moment, and never call
         * seccomp_load(); keep libseccomp's hands off it regardless. */
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
                return berth_err_sys(err, -r, "set SCMP_FLTATR_CTL_NNP");
        /* A binary tree of syscall numbers instead of a linear list: with
         * a few hundred rules every syscall otherwise walks the whole list.
         * Only an optimisation, so a libseccomp without it is fine. */
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        for (size_t i = 0; i < s->n_architectures; i++)
                if ((r = add_arch(ctx, s->architectures[i], err)) < 0)
                        return r;
        for (size_t i = 0; i < s->n_rules; i++)
                if ((r = add_rule(ctx, &s->rules[i], def, &f->notify, err)) < 0)
                        return berth_err_wrap(err, "syscalls[%zu]", i);
        if ((r = kernel_flags(s, f->notify, &f->flags, err)) < 0)
                return r;
        if ((r = export_bpf(ctx, f, err)) < 0)
                return r;
        if ((r = seccomp_enosys_prepend(s, &f->insns, &f->len, err)) < 0)
                return r;
        if (f->len > BPF_MAX_INSNS)
                return berth_err_set(err, E2BIG, "the filter has %zu BPF instructions (limit %d)", f->len,
                                     BPF_MAX_INSNS);
        return 0;
}

struct berth_seccomp_filter *berth_seccomp_compile(const struct berth_seccomp *s, struct berth_err *err)
{
        struct berth_seccomp_filter *f = calloc(1, sizeof(*f));
        if (!f) {
                berth_err_sys(err, ENOMEM, "seccomp");
                return NULL;
        }
        if (compile_into(s, f, err) < 0) {
                berth_err_wrap(err, "seccomp");
                berth_seccomp_filter_free(f);
                return NULL;
        }
        return f;
}

void berth_seccomp_filter_free(struct berth_seccomp_filter *f)
{
        if (!f)
                return;
        free(f->insns);
        free(f);
}

bool berth_seccomp_filter_has_notify(const struct berth_seccomp_filter *f)
{
        return f->notify;
}

bool berth_seccomp_has_notify(const struct berth_seccomp *s)
{
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].action == BERTH_SCMP_ACT_NOTIFY && s->rules[i].n_names > 0)
                        return true;
        return false;
}

int berth_seccomp_filter_load(const struct berth_seccomp_filter *f, int *notify_fd, struct berth_err *err)
{
        struct sock_fprog prog = {.len = (unsigned short)f->len, .filter = f->insns};

        *notify_fd = -EBADF;
        /* Needs no_new_privs or CAP_SYS_ADMIN: the caller arranges one. With
         * NEW_LISTENER the return value is the listener fd (close-on-exec). */
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog);
        if (r < 0)
                return berth_err_sys(err, errno, "seccomp: load the filter");
        if (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
                *notify_fd = (int)r;
        return 0;
}

int berth_seccomp_load(const struct berth_seccomp *s, int *notify_fd, struct berth_err *err)
{
        *notify_fd = -EBADF;
        struct berth_seccomp_filter *f = berth_seccomp_compile(s, err);
        if (!f)
                return err && err->code > 0 ? -err->code : -EINVAL;
        int r = berth_seccomp_filter_load(f, notify_fd, err);
        berth_seccomp_filter_free(f);
        return r;
}

const struct sock_filter *berth_seccomp_filter_insns(const struct berth_seccomp_filter *f, size_t *len)
{
        *len = f->len;
        return f->insns;
}

unsigned long berth_seccomp_filter_flags(const struct berth_seccomp_filter *f)
{
        return f->flags;
}

struct berth_seccomp_filter *berth_seccomp_filter_new(const struct sock_filter *insns, size_t len,
                                                      unsigned long flags, bool notify, struct berth_err *err)
{
        if (len == 0 || len > BPF_MAX_INSNS) {
                berth_err_set(err, E2BIG, "seccomp: a program of %zu BPF instructions (limit %d)", len,
                              BPF_MAX_INSNS);
                return NULL;
        }
        struct berth_seccomp_filter *f = calloc(1, sizeof(*f));
        if (f)
                f->insns = malloc(len * sizeof(*insns));
        if (!f || !f->insns) {
                free(f);
                berth_err_sys(err, ENOMEM, "seccomp");
                return NULL;
        }
        memcpy(f->insns, insns, len * sizeof(*insns));
        f->len = len;
        f->flags = flags;
        f->notify = notify;
        return f;
}
