/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device allowlist: the rule list (deny everything, the spec's rules,
 * optionally runc's defaults) and its v1 form (devices.allow/deny lines).
 *
 * On cgroup v2 the rules become an eBPF program (devices_bpf.c). A hybrid
 * host runs the BPF_CGROUP_DEVICE programs of a task's cgroup2 cgroup and
 * then the v1 devices controller: there the rules go to whichever the
 * container has, v1 when it joins the devices hierarchy, else eBPF on
 * the cgroup2 mirror (which saves joining it). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

/* runc's default allowlist: mknod of anything, and the devices every
 * container gets in /dev. */
static const struct berth_device_rule default_rules[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"}, {true, 'c', 1, 5, "rwm"},
    {true, 'c', 1, 7, "rwm"}, {true, 'c', 1, 8, "rwm"},    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
};

int cg_dev_rules_build(const struct berth_resources *res, bool defaults, struct cg_dev_rules *out)
{
        size_t n_spec = res ? res->n_devices : 0;
        size_t n = 1 + n_spec + (defaults ? BERTH_ARRAY_SIZE(default_rules) : 0);
        out->r = calloc(n, sizeof(*out->r));
        if (!out->r)
                return -ENOMEM;
        out->r[0] = (struct berth_device_rule){false, 'a', -1, -1, "rwm"};
        out->n = 1;
        for (size_t i = 0; i < n_spec; i++)
                out->r[out->n++] = res->devices[i];
        for (size_t i = 0; defaults && i < BERTH_ARRAY_SIZE(default_rules); i++)
                out->r[out->n++] = default_rules[i];
        return 0;
}

void cg_dev_rules_clear(struct cg_dev_rules *d)
{
        free(d->r);
        d->r = NULL;
        d->n = 0;
}

static bool rule_is_everything(const struct berth_device_rule *r)
{
        return r->type == 'a' && r->major < 0 && r->minor < 0 && strchr(r->access, 'r') &&
               strchr(r->access, 'w') && strchr(r->access, 'm');
}

static void fmt_num(int64_t v, char *buf, size_t len)
{
        if (v < 0)
                snprintf(buf, len, "*");
        else
                snprintf(buf, len, "%" PRId64, v);
}

int cg_dev_v1_line(const struct berth_device_rule *r, char *buf, size_t len)
{
        char ma[24], mi[24];
        if (r->type != 'a' && r->type != 'c' && r->type != 'b')
                return -EINVAL;
        if (rule_is_everything(r))
                return snprintf(buf, len, "a");
        fmt_num(r->major, ma, sizeof(ma));
        fmt_num(r->minor, mi, sizeof(mi));
        return snprintf(buf, len, "%c %s:%s %s", r->type, ma, mi, r->access[0] ? r->access : "rwm");
}

static int plan_add(struct cg_dev_v1_write *w, size_t *n, const struct berth_device_rule *r, char type)
{
        struct berth_device_rule t = *r;
        t.type = type;
        w[*n].file = r->allow ? "devices.allow" : "devices.deny";
        if (cg_dev_v1_line(&t, w[*n].line, sizeof(w[*n].line)) < 0)
                return -EINVAL;
        (*n)++;
        return 0;
}

/* v1 keeps a default behaviour plus exceptions: "a" resets both. So the
 * last allow/deny-everything rule becomes the reset, earlier rules are
 * moot, and later ones are written in order. A partial "a" rule would
 * also reset in v1, so it is written as its 'c' and 'b' halves. */
int cg_dev_v1_plan(const struct cg_dev_rules *d, struct cg_dev_v1_write **out, size_t *n_out)
{
        size_t last = 0;
        for (size_t i = 0; i < d->n; i++)
                if (rule_is_everything(&d->r[i]))
                        last = i;
        struct cg_dev_v1_write *w = calloc(2 * d->n + 1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        size_t n = 0;
        int r = plan_add(w, &n, &d->r[last], 'a');
        for (size_t i = last + 1; r == 0 && i < d->n; i++) {
                if (d->r[i].type == 'a' && !rule_is_everything(&d->r[i])) {
                        r = plan_add(w, &n, &d->r[i], 'c');
                        if (r == 0)
                                r = plan_add(w, &n, &d->r[i], 'b');
                } else {
                        r = plan_add(w, &n, &d->r[i], d->r[i].type);
                }
        }
        if (r < 0) {
                free(w);
                return r;
        }
        *out = w;
        *n_out = n;
        return 0;
}

static int write_rule(int fd, const struct cg_dev_v1_write *w, struct berth_err *err)
{
        size_t len = strlen(w->line);
        ssize_t n = write(fd, w->line, len);
        if (n < 0)
                return berth_err_sys(err, errno, "devices: write '%s' to %s", w->line, w->file);
        return (size_t)n == len ? 0 : berth_err_set(err, EIO, "devices: short write to %s", w->file);
}

/* One open fd per file: the kernel takes each write as one rule. */
int cg_dev_v1_apply(int dfd, const struct cg_dev_rules *d, struct berth_err *err)
{
        _cleanup_free_ struct cg_dev_v1_write *w = NULL;
        size_t n = 0;
        int r = cg_dev_v1_plan(d, &w, &n);
        if (r < 0)
                return berth_err_set(err, -r, "devices: invalid rule");
        _cleanup_close_ int allow = -EBADF, deny = -EBADF;
        for (size_t i = 0; i < n; i++) {
                int *fd = strcmp(w[i].file, "devices.allow") == 0 ? &allow : &deny;
                if (*fd < 0 && (*fd = openat(dfd, w[i].file, O_WRONLY | O_CLOEXEC)) < 0)
                        return berth_err_sys(err, errno, "devices: open %s", w[i].file);
                if ((r = write_rule(*fd, &w[i], err)) < 0)
                        return r;
        }
        return 0;
}

/* v1 keeps a default and exceptions; "c 1:* rw" then "deny c 1:7" only
 * removes an exception equal to the deny rule, so 1:7 stays open. The v1
 * writes mean what the eBPF filter (last matching rule wins) means only
 * when every rule after the last allow/deny-everything one goes the
 * other way: exceptions to a default, with the same access matching. */
static bool v1_exact(const struct cg_dev_rules *d)
{
        size_t last = 0;
        for (size_t i = 0; i < d->n; i++)
                if (rule_is_everything(&d->r[i]))
                        last = i;
        for (size_t i = last + 1; i < d->n; i++)
                if (d->r[i].allow == d->r[last].allow)
                        return false;
        return true;
}

/* A hybrid host runs the cgroup2 eBPF filter and then the v1 devices
 * controller: where the container joins the v1 devices hierarchy anyway
 * (runc's join-all) and v1 can say it, its devices.allow/deny writes cost
 * less than loading a program (verifier + JIT, ~0.3 ms), and they can be
 * made after the clone. Pure v2 has only the eBPF filter. */
static bool rules_on_v1(const struct berth_cgroup *cg, const struct cg_dev_rules *d)
{
        if (!cg_unified(cg))
                return true;
        return cg->layout == BERTH_CG_HYBRID && cg_v1(cg, CG_DEVICES) && v1_exact(d);
}

bool cg_devices_on_v1(const struct berth_cgroup *cg, const struct berth_resources *res)
{
        struct cg_dev_rules d = {0};
        if (cg_dev_rules_build(res, cg->default_devices, &d) < 0)
                return !cg_unified(cg);
        bool v1 = rules_on_v1(cg, &d);
        cg_dev_rules_clear(&d);
        return v1;
}

static int apply_bpf(struct berth_cgroup *cg, const struct cg_dev_rules *d, struct berth_err *err)
{
        struct bpf_insn *insns = NULL;
        size_t n = 0;
        int r = cg_dev_bpf_build(d, &insns, &n);
        if (r < 0)
                r = berth_err_set(err, -r, "devices: invalid rule");
        else if ((r = cg_hier_fd(cg_unified(cg), err)) >= 0)
                r = cg_dev_bpf_apply(r, insns, n, err);
        free(insns);
        return r;
}

static int v1_devices_fd(struct berth_cgroup *cg, struct berth_err *err)
{
        struct cg_hier *h = cg_v1(cg, CG_DEVICES);
        if (!h)
                return berth_err_set(err, ENODEV, "devices: the v1 devices controller is not mounted");
        return cg_hier_fd(h, err);
}

static int apply_rules(struct berth_cgroup *cg, const struct cg_dev_rules *d, bool v1, struct berth_err *err)
{
        if (!v1)
                return apply_bpf(cg, d, err);
        int fd = v1_devices_fd(cg, err);
        return fd < 0 ? fd : cg_dev_v1_apply(fd, d, err);
}

int cg_apply_devices(struct berth_cgroup *cg, const struct berth_resources *res, struct berth_err *err)
{
        struct cg_dev_rules d = {0};
        if (cg_dev_rules_build(res, cg->default_devices, &d) < 0)
                return berth_err_sys(err, ENOMEM, "devices");
        int r = apply_rules(cg, &d, rules_on_v1(cg, &d), err);
        cg_dev_rules_clear(&d);
        return r < 0 ? r : 0;
}

/* On a hybrid host the rules may move between the two places (a list v1
 * cannot say, or a container of an older berth): the new place is set
 * first, then the old one opens up, so there is no unfiltered moment. */
int cg_update_devices(struct berth_cgroup *cg, const struct berth_resources *res, struct berth_err *err)
{
        struct cg_dev_rules d = {0};
        if (cg_dev_rules_build(res, cg->default_devices, &d) < 0)
                return berth_err_sys(err, ENOMEM, "devices");
        bool v1 = rules_on_v1(cg, &d);
        int r = apply_rules(cg, &d, v1, err);
        cg_dev_rules_clear(&d);
        if (r < 0 || cg->layout != BERTH_CG_HYBRID)
                return r < 0 ? r : 0;
        if (v1)
                return cg_dev_bpf_clear(cg_hier_fd(cg_unified(cg), err), err);
        if (!cg_v1(cg, CG_DEVICES))
                return 0;
        int fd = v1_devices_fd(cg, err);
        return fd < 0 ? fd : cg_write(fd, "devices.allow", "a", "devices", err);
}
