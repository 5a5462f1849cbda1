/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.seccomp: default action, architectures, flags, syscall rules.
 *
 * Syscall names stay strings: a name unknown to this host's libseccomp is
 * decided when the filter is built (usually skipped), not here, so that one
 * profile serves many kernels. Actions, operators, architectures and flags
 * are closed sets and are checked now. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/seccomp.h"
#include "runtime/spec/internal.h"

/* seccomp_data has six syscall arguments. */
#define SPEC_SCMP_MAX_ARGS 6

static const char *const action_names[] = {
    [BERTH_SCMP_ACT_KILL] = "SCMP_ACT_KILL",
    [BERTH_SCMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [BERTH_SCMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
    [BERTH_SCMP_ACT_TRAP] = "SCMP_ACT_TRAP",
    [BERTH_SCMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
    [BERTH_SCMP_ACT_TRACE] = "SCMP_ACT_TRACE",
    [BERTH_SCMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
    [BERTH_SCMP_ACT_LOG] = "SCMP_ACT_LOG",
    [BERTH_SCMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
    [BERTH_SCMP_ACT_NOTIFY + 1] = NULL,
};

static const char *const op_names[] = {
    [BERTH_SCMP_OP_NE] = "SCMP_CMP_NE",
    [BERTH_SCMP_OP_LT] = "SCMP_CMP_LT",
    [BERTH_SCMP_OP_LE] = "SCMP_CMP_LE",
    [BERTH_SCMP_OP_EQ] = "SCMP_CMP_EQ",
    [BERTH_SCMP_OP_GE] = "SCMP_CMP_GE",
    [BERTH_SCMP_OP_GT] = "SCMP_CMP_GT",
    [BERTH_SCMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
    [BERTH_SCMP_OP_MASKED_EQ + 1] = NULL,
};

/* The one list of each (berth features reports them too). */
const char *const *berth_seccomp_known_actions(void)
{
        return action_names;
}

const char *const *berth_seccomp_known_operators(void)
{
        return op_names;
}

/* Every architecture the runtime spec and libseccomp name. */
static const char *const arch_names[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

static const struct {
        const char *name;
        unsigned flag; /* 0: accepted and ignored */
} flag_table[] = {
    /* Threads are not running yet when the filter is loaded; TSYNC is moot. */
    {"SECCOMP_FILTER_FLAG_TSYNC", 0},
    {"SECCOMP_FILTER_FLAG_LOG", BERTH_SCMP_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", BERTH_SCMP_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV},
};

static int lookup(const char *const *names, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], s) == 0)
                        return (int)i;
        return -1;
}

static int get_action(json_t *obj, const char *parent, const char *key, enum berth_seccomp_action *out,
                      struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v = spec_member(obj, key);

        spec_path_key(path, parent, key);
        if (!v)
                return spec_fail(err, path, "missing required field");
        if (!spec_is_string(v))
                return spec_fail(err, path, "must be a string");
        int a = lookup(action_names, BERTH_ARRAY_SIZE(action_names), json_string_value(v));
        if (a < 0)
                return spec_fail(err, path, "unknown action \"%s\"", json_string_value(v));
        *out = (enum berth_seccomp_action)a;
        return 0;
}

static int get_errno_ret(json_t *obj, const char *parent, const char *key, bool *has, unsigned *out,
                         struct berth_err *err)
{
        uint32_t v;
        int r = spec_get_u32(obj, parent, key, &v, err);

        *has = r > 0;
        if (r > 0)
                *out = v;
        return r < 0 ? r : 0;
}

static int parse_arg(json_t *v, const char *path, struct berth_seccomp_arg *a, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int64_t index;
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(fpath, path, "index");
        if ((r = spec_get_int(v, path, "index", 0, SPEC_SCMP_MAX_ARGS - 1, &index, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        a->index = (unsigned)index;
        spec_path_key(fpath, path, "value");
        if ((r = spec_get_u64(v, path, "value", &a->value, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        if ((r = spec_get_u64(v, path, "valueTwo", &a->value_two, err)) < 0)
                return r;
        spec_path_key(fpath, path, "op");
        json_t *op = spec_member(v, "op");
        if (!op)
                return spec_fail(err, fpath, "missing required field");
        if (!spec_is_string(op))
                return spec_fail(err, fpath, "must be a string");
        int o = lookup(op_names, BERTH_ARRAY_SIZE(op_names), json_string_value(op));
        if (o < 0)
                return spec_fail(err, fpath, "unknown operator \"%s\"", json_string_value(op));
        a->op = (enum berth_seccomp_op)o;
        return 0;
}

static int parse_args(json_t *rule, const char *parent, struct berth_seccomp_rule *sr, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(rule, parent, "args", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "args");
        sr->args = calloc(json_array_size(arr) + 1, sizeof(*sr->args));
        if (!sr->args)
                return spec_oom(err, path);
        sr->n_args = json_array_size(arr);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_arg(v, ipath, &sr->args[i], err)) < 0)
                        return r;
        }
        return 0;
}

static int parse_rule(json_t *v, const char *path, struct berth_seccomp_rule *sr, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(fpath, path, "names");
        if ((r = spec_get_strv(v, path, "names", &sr->names, &sr->n_names, err)) < 0)
                return r;
        if (sr->n_names == 0)
                return spec_fail(err, fpath, "must be a non-empty array of strings");
        if ((r = get_action(v, path, "action", &sr->action, err)) < 0 ||
            (r = get_errno_ret(v, path, "errnoRet", &sr->has_errno_ret, &sr->errno_ret, err)) < 0 ||
            (r = parse_args(v, path, sr, err)) < 0)
                return r;
        return 0;
}

static int parse_rules(json_t *sc, const char *parent, struct berth_seccomp *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(sc, parent, "syscalls", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "syscalls");
        s->rules = calloc(json_array_size(arr) + 1, sizeof(*s->rules));
        if (!s->rules)
                return spec_oom(err, path);
        s->n_rules = json_array_size(arr);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_rule(v, ipath, &s->rules[i], err)) < 0)
                        return r;
                /* A notifying rule on write(2) would deadlock the runtime,
                 * which writes the listener fd out before the filter is live. */
                if (s->rules[i].action == BERTH_SCMP_ACT_NOTIFY)
                        for (size_t k = 0; k < s->rules[i].n_names; k++)
                                if (strcmp(s->rules[i].names[k], "write") == 0)
                                        return spec_fail(
                                            err, ipath,
                                            "SCMP_ACT_NOTIFY cannot be used for the write syscall");
        }
        return 0;
}

static int parse_arches(json_t *sc, const char *parent, struct berth_seccomp *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        int r = spec_get_strv(sc, parent, "architectures", &s->architectures, &s->n_architectures, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "architectures");
        for (size_t i = 0; i < s->n_architectures; i++) {
                spec_path_index(ipath, path, i);
                if (lookup(arch_names, BERTH_ARRAY_SIZE(arch_names), s->architectures[i]) < 0)
                        return spec_fail(err, ipath, "unknown architecture \"%s\"", s->architectures[i]);
        }
        return 0;
}

static int parse_flags(json_t *sc, const char *parent, struct berth_seccomp *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(sc, parent, "flags", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "flags");
        json_array_foreach(arr, i, v)
        {
                size_t k;
                spec_path_index(ipath, path, i);
                if (!spec_is_string(v))
                        return spec_fail(err, ipath, "must be a string");
                for (k = 0; k < BERTH_ARRAY_SIZE(flag_table); k++)
                        if (strcmp(flag_table[k].name, json_string_value(v)) == 0)
                                break;
                if (k == BERTH_ARRAY_SIZE(flag_table))
                        return spec_fail(err, ipath, "unknown flag \"%s\"", json_string_value(v));
                s->flags |= flag_table[k].flag;
        }
        return 0;
}

static bool uses_notify(const struct berth_seccomp *s)
{
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].action == BERTH_SCMP_ACT_NOTIFY)
                        return true;
        return false;
}

int spec_parse_seccomp(json_t *sc, const char *path, struct berth_seccomp *s, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int r;

        if ((r = get_action(sc, path, "defaultAction", &s->default_action, err)) < 0 ||
            (r = get_errno_ret(sc, path, "defaultErrnoRet", &s->has_default_errno_ret, &s->default_errno_ret,
                               err)) < 0 ||
            (r = parse_arches(sc, path, s, err)) < 0 || (r = parse_flags(sc, path, s, err)) < 0 ||
            (r = spec_get_string(sc, path, "listenerPath", &s->listener_path, err)) < 0 ||
            (r = spec_get_string(sc, path, "listenerMetadata", &s->listener_metadata, err)) < 0 ||
            (r = parse_rules(sc, path, s, err)) < 0)
                return r;
        spec_path_key(fpath, path, "defaultAction");
        /* The kernel would notify on every syscall, including the runtime's own. */
        if (s->default_action == BERTH_SCMP_ACT_NOTIFY)
                return spec_fail(err, fpath, "SCMP_ACT_NOTIFY cannot be the default action");
        spec_path_key(fpath, path, "listenerPath");
        if (uses_notify(s) && (!s->listener_path || !s->listener_path[0]))
                return spec_fail(err, fpath, "required when a rule uses SCMP_ACT_NOTIFY");
        return 0;
}

void spec_seccomp_clear(struct berth_seccomp *s)
{
        spec_strv_free(s->architectures);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; i < s->n_rules; i++) {
                spec_strv_free(s->rules[i].names);
                free(s->rules[i].args);
        }
        free(s->rules);
        memset(s, 0, sizeof(*s));
}
