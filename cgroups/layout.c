/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the host has: the layout (unified, hybrid, legacy), every mounted
 * hierarchy (from mountinfo) and the caller's cgroup in each of them (from
 * /proc/self/cgroup, which differs per hierarchy on v1). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/proc.h"
#include "cgroups/internal.h"

#define CG_ROOT "/sys/fs/cgroup"

static const char *const ctrl_names[CG_NCTRL] = {
    [CG_CPU] = "cpu",         [CG_CPUACCT] = "cpuacct",   [CG_CPUSET] = "cpuset",
    [CG_MEMORY] = "memory",   [CG_DEVICES] = "devices",   [CG_FREEZER] = "freezer",
    [CG_BLKIO] = "blkio",     [CG_PIDS] = "pids",         [CG_HUGETLB] = "hugetlb",
    [CG_NET_CLS] = "net_cls", [CG_NET_PRIO] = "net_prio", [CG_PERF_EVENT] = "perf_event",
    [CG_RDMA] = "rdma",       [CG_MISC] = "misc",
};

const char *cg_ctrl_name(enum cg_ctrl c)
{
        return c < CG_NCTRL ? ctrl_names[c] : "?";
}

int cg_ctrl_from_name(const char *name)
{
        for (int i = 0; i < CG_NCTRL; i++)
                if (strcmp(name, ctrl_names[i]) == 0)
                        return i;
        return -1;
}

const char *berth_cgroup_layout_name(enum berth_cgroup_layout layout)
{
        switch (layout) {
        case BERTH_CG_UNIFIED:
                return "unified";
        case BERTH_CG_HYBRID:
                return "hybrid";
        default:
                return "legacy";
        }
}

void cg_host_clear(struct cg_host *h)
{
        for (size_t i = 0; i < h->n; i++) {
                free(h->m[i].name);
                free(h->m[i].mountpoint);
                free(h->m[i].root);
                free(h->m[i].own);
                free(h->m[i].ctrls);
        }
        free(h->m);
        h->m = NULL;
        h->n = 0;
}

/* Controller list ("cpu,cpuacct", "rw,memory", "name=systemd") to mask and
 * name; unknown options (rw, relatime, clone_children...) are skipped. */
static void parse_ctrl_list(const char *s, size_t len, unsigned *mask, char **name)
{
        *mask = 0;
        *name = NULL;
        size_t i = 0;
        while (i < len) {
                size_t j = i;
                while (j < len && s[j] != ',')
                        j++;
                char tok[64];
                size_t tl = j - i < sizeof(tok) - 1 ? j - i : sizeof(tok) - 1;
                memcpy(tok, s + i, tl);
                tok[tl] = '\0';
                int c = cg_ctrl_from_name(tok);
                if (c >= 0)
                        *mask |= CG_BIT(c);
                else if (strncmp(tok, "name=", 5) == 0 && !*name)
                        *name = strdup(tok + 5);
                i = j + 1;
        }
}

static int add_mount(struct cg_host *h, struct cg_mount *m, struct berth_err *err)
{
        struct cg_mount *nm = realloc(h->m, (h->n + 1) * sizeof(*nm));
        if (!nm) {
                free(m->name);
                free(m->mountpoint);
                free(m->root);
                return berth_err_sys(err, ENOMEM, "mountinfo");
        }
        h->m = nm;
        h->m[h->n++] = *m;
        return 0;
}

static bool have_hierarchy(const struct cg_host *h, const struct cg_mount *m)
{
        for (size_t i = 0; i < h->n; i++) {
                const struct cg_mount *o = &h->m[i];
                if (o->unified != m->unified || o->mask != m->mask)
                        continue;
                if ((!o->name && !m->name) || (o->name && m->name && strcmp(o->name, m->name) == 0))
                        return true;
        }
        return false;
}

static int parse_mountinfo_entry(const struct berth_mountinfo_entry *e, struct cg_host *h,
                                 struct berth_err *err)
{
        struct cg_mount m = {0};
        if (strcmp(e->fstype, "cgroup2") == 0)
                m.unified = true;
        else if (strcmp(e->fstype, "cgroup") != 0)
                return 0;
        if (!m.unified) {
                parse_ctrl_list(e->super_options, strlen(e->super_options), &m.mask, &m.name);
                if (!m.mask && !m.name)
                        return 0;
        }
        /* The first mount of a hierarchy wins; later ones are bind mounts. */
        if (have_hierarchy(h, &m)) {
                free(m.name);
                return 0;
        }
        m.root = strdup(e->root);
        m.mountpoint = strdup(e->mount_point);
        if (!m.root || !m.mountpoint) {
                free(m.root);
                free(m.mountpoint);
                free(m.name);
                return berth_err_sys(err, ENOMEM, "mountinfo");
        }
        return add_mount(h, &m, err);
}

int cg_parse_mountinfo(const char *buf, struct cg_host *h, struct berth_err *err)
{
        _cleanup_free_ char *copy = strdup(buf); /* the parser splits in place */
        if (!copy)
                return berth_err_sys(err, ENOMEM, "mountinfo");
        char *cur = copy;
        struct berth_mountinfo_entry e;
        while (berth_mountinfo_next(&cur, &e)) {
                int r = parse_mountinfo_entry(&e, h, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_own(struct cg_host *h, bool unified, unsigned mask, const char *name, const char *path,
                   size_t plen, const char *ctrls, size_t clen)
{
        for (size_t i = 0; i < h->n; i++) {
                struct cg_mount *m = &h->m[i];
                if (m->unified != unified || (!unified && m->mask != mask))
                        continue;
                if (!unified && ((m->name == NULL) != (name == NULL) || (name && strcmp(name, m->name) != 0)))
                        continue;
                free(m->own);
                free(m->ctrls);
                m->own = strndup(path, plen);
                m->ctrls = strndup(ctrls, clen);
                return m->own && m->ctrls ? 0 : -ENOMEM;
        }
        return 0;
}

/* The next /proc/<pid>/cgroup entry with its controller mask and name=
 * (none for cgroup2); *name is the caller's to free. */
static bool next_entry(const char **buf, struct berth_proc_cgroup_entry *e, unsigned *mask, char **name)
{
        free(*name);
        *mask = 0;
        *name = NULL;
        if (!berth_proc_cgroup_next(buf, e))
                return false;
        if (!e->v2)
                parse_ctrl_list(e->controllers, e->controllers_len, mask, name);
        return true;
}

int cg_parse_proc_cgroup(const char *buf, struct cg_host *h, struct berth_err *err)
{
        struct berth_proc_cgroup_entry e;
        unsigned mask;
        _cleanup_free_ char *name = NULL;
        while (next_entry(&buf, &e, &mask, &name)) {
                /* " (deleted)" marks a removed cgroup; we still report the path. */
                if (set_own(h, e.v2, mask, name, e.path, e.path_len, e.controllers, e.controllers_len) < 0)
                        return berth_err_sys(err, ENOMEM, "/proc/self/cgroup");
        }
        return 0;
}

char *cg_proc_cgroup_path(const char *buf, bool unified, unsigned mask, const char *named)
{
        struct berth_proc_cgroup_entry e;
        unsigned m;
        _cleanup_free_ char *name = NULL;
        while (next_entry(&buf, &e, &m, &name)) {
                bool same_name = name ? named && strcmp(name, named) == 0 : !named;
                if (e.v2 == unified && (unified || (m == mask && same_name)))
                        return strndup(e.path, e.path_len);
        }
        return NULL;
}

enum berth_cgroup_layout cg_layout_from_magic(unsigned long root_magic, unsigned long unified_magic)
{
        if (root_magic == CGROUP2_SUPER_MAGIC)
                return BERTH_CG_UNIFIED;
        if (unified_magic == CGROUP2_SUPER_MAGIC)
                return BERTH_CG_HYBRID;
        return BERTH_CG_LEGACY;
}

int berth_cgroup_detect_layout(enum berth_cgroup_layout *layout, struct berth_err *err)
{
        struct statfs root, uni = {0};
        if (statfs(CG_ROOT, &root) < 0)
                return berth_err_sys(err, errno, "statfs %s", CG_ROOT);
        if (root.f_type != CGROUP2_SUPER_MAGIC && statfs(CG_ROOT "/unified", &uni) < 0)
                uni.f_type = 0;
        *layout = cg_layout_from_magic((unsigned long)root.f_type, (unsigned long)uni.f_type);
        return 0;
}

int cg_host_load(struct cg_host *h, struct berth_err *err)
{
        int r = berth_cgroup_detect_layout(&h->layout, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *mi = NULL, *pc = NULL;
        if ((r = cg_read(AT_FDCWD, "/proc/self/mountinfo", &mi, err)) < 0 ||
            (r = cg_read(AT_FDCWD, "/proc/self/cgroup", &pc, err)) < 0)
                return r;
        if ((r = cg_parse_mountinfo(mi, h, err)) < 0 || (r = cg_parse_proc_cgroup(pc, h, err)) < 0)
                return r;
        return 0;
}

int berth_cgroup_features(struct berth_cgroup_features *f, struct berth_err *err)
{
        *f = (struct berth_cgroup_features){.v1 = true, .v2 = true, .systemd = true};
        return berth_cgroup_detect_layout(&f->host_layout, err);
}
