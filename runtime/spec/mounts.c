/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "mounts" array: destination, type, source, options -> MS_* flags.
 *
 * Options are mapped the way runc does: names that are mount(2) flags or
 * propagation types become flags; everything else is a filesystem option
 * and is passed on as the data string ("mode=755,size=65536k"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "berth/cleanup.h"
#include "runtime/spec/internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct mount_flag {
        const char *name;
        bool clear; /* the option turns the flag off ("rw", "dev", ...) */
        unsigned long flag;
};

static const struct mount_flag flag_table[] = {
    {"acl", false, MS_POSIXACL},       {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},       {"defaults", false, 0},
    {"dev", true, MS_NODEV},           {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION}, {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},         {"mand", false, MS_MANDLOCK},
    {"noacl", true, MS_POSIXACL},      {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},        {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},      {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME}, {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},      {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"relatime", false, MS_RELATIME},  {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},      {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},         {"symfollow", true, MS_NOSYMFOLLOW},
    {"sync", false, MS_SYNCHRONOUS},
};

static const struct {
        const char *name;
        enum berth_propagation prop;
} prop_table[] = {
    {"private", BERTH_PROP_PRIVATE},       {"rprivate", BERTH_PROP_RPRIVATE},
    {"shared", BERTH_PROP_SHARED},         {"rshared", BERTH_PROP_RSHARED},
    {"slave", BERTH_PROP_SLAVE},           {"rslave", BERTH_PROP_RSLAVE},
    {"unbindable", BERTH_PROP_UNBINDABLE}, {"runbindable", BERTH_PROP_RUNBINDABLE},
};

/* Recursive mount attributes (mount_setattr AT_RECURSIVE): "r" + a flag
 * option of the table above, set or cleared on the whole tree. */
static const char *const rec_attr_table[] = {
    "rro",      "rrw",    "rnosuid",      "rsuid",          "rnodev",       "rdev",
    "rnoexec",  "rexec",  "rnodiratime",  "rdiratime",      "rrelatime",    "rnorelatime",
    "rnoatime", "ratime", "rstrictatime", "rnostrictatime", "rnosymfollow", "rsymfollow",
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

static void apply_rec_flag(struct berth_mount *m, const char *opt)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flag_table); i++) {
                const struct mount_flag *f = &flag_table[i];
                if (strcmp(f->name, opt + 1) != 0)
                        continue;
                if (f->clear) {
                        m->rec_flags &= ~f->flag;
                        m->rec_clear_flags |= f->flag;
                } else {
                        m->rec_flags |= f->flag;
                        m->rec_clear_flags &= ~f->flag;
                }
                return;
        }
}

static bool apply_flag(struct berth_mount *m, const char *opt)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flag_table); i++) {
                const struct mount_flag *f = &flag_table[i];
                if (strcmp(f->name, opt) != 0)
                        continue;
                /* The later option wins, as with mount(8). */
                if (f->clear) {
                        m->flags &= ~f->flag;
                        m->clear_flags |= f->flag;
                } else {
                        m->flags |= f->flag;
                        m->clear_flags &= ~f->flag;
                }
                return true;
        }
        return false;
}

static bool apply_special(struct berth_mount *m, const char *opt)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(prop_table); i++)
                if (strcmp(prop_table[i].name, opt) == 0) {
                        m->propagation = prop_table[i].prop;
                        return true;
                }
        if (strcmp(opt, "bind") == 0 || strcmp(opt, "rbind") == 0) {
                m->bind = true;
                m->recursive = m->recursive || opt[0] == 'r';
                return true;
        }
        if (strcmp(opt, "idmap") == 0 || strcmp(opt, "ridmap") == 0) {
                *(opt[0] == 'r' ? &m->ridmap : &m->idmap) = true;
                return true;
        }
        /* Meaningful on tmpfs only; elsewhere ignored, as runc and crun do. */
        if (strcmp(opt, "tmpcopyup") == 0) {
                m->tmpcopyup = true;
                return true;
        }
        return false;
}

/* Appends a filesystem option to m->data ("a,b,c"). */
static int append_data(struct berth_mount *m, const char *opt, const char *path, struct berth_err *err)
{
        size_t old = m->data ? strlen(m->data) : 0;
        char *d = realloc(m->data, old + strlen(opt) + 2);

        if (!d)
                return spec_oom(err, path);
        if (old)
                d[old++] = ',';
        strcpy(d + old, opt);
        m->data = d;
        return 0;
}

static int parse_option(struct berth_mount *m, json_t *v, const char *path, struct berth_err *err)
{
        if (!spec_is_string(v))
                return spec_fail(err, path, "must be a string");
        const char *opt = json_string_value(v);
        if (!opt[0])
                return 0; /* "" is harmless; Go splits "a,,b" into it too */
        if (in_list(rec_attr_table, BERTH_ARRAY_SIZE(rec_attr_table), opt)) {
                apply_rec_flag(m, opt);
                return 0;
        }
        if (apply_flag(m, opt) || apply_special(m, opt))
                return 0;
        /* Commas inside one option stay: SELinux contexts such as
         * context="...:s0:c1,c2" quote them, and the kernel parses the quotes. */
        return append_data(m, opt, path, err);
}

static int parse_options(json_t *mnt, const char *parent, struct berth_mount *m, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(mnt, parent, "options", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "options");
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_option(m, v, ipath, err)) < 0)
                        return r;
        }
        return 0;
}

static int parse_mount(json_t *v, const char *path, struct berth_mount *m, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(fpath, path, "destination");
        if ((r = spec_get_string(v, path, "destination", &m->destination, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        if ((r = spec_check_abs_path(m->destination, fpath, err)) < 0)
                return r;
        if ((r = spec_get_string(v, path, "type", &m->type, err)) < 0 ||
            (r = spec_get_string(v, path, "source", &m->source, err)) < 0 ||
            (r = parse_options(v, path, m, err)) < 0)
                return r;
        if (m->type && strcmp(m->type, "bind") == 0)
                m->bind = true;
        if ((r = spec_get_id_mappings(v, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err)) <
                0 ||
            (r = spec_get_id_mappings(v, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err)) < 0)
                return r;
        /* An idmapped mount needs both maps (mount_setattr takes a userns). */
        if (!m->n_uid_mappings != !m->n_gid_mappings)
                return spec_fail(err, path, "uidMappings and gidMappings must be given together");
        return 0;
}

int spec_parse_mounts(json_t *arr, const char *path, struct berth_spec *s, struct berth_err *err)
{
        char ipath[SPEC_PATH_MAX];
        json_t *v;
        size_t i;

        s->mounts = calloc(json_array_size(arr) + 1, sizeof(*s->mounts));
        if (!s->mounts)
                return spec_oom(err, path);
        s->n_mounts = json_array_size(arr);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                int r = parse_mount(v, ipath, &s->mounts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int spec_append_mounts(json_t *arr, const char *path, struct berth_spec *s, struct berth_err *err)
{
        size_t n = json_array_size(arr);
        struct berth_mount *m = realloc(s->mounts, (s->n_mounts + n + 1) * sizeof(*m));
        if (!m)
                return spec_oom(err, path);
        s->mounts = m;
        memset(&m[s->n_mounts], 0, (n + 1) * sizeof(*m));
        char ipath[SPEC_PATH_MAX];
        json_t *v;
        size_t i;
        json_array_foreach(arr, i, v)
        {
                /* Counted before it is filled: freed with the spec on failure. */
                s->n_mounts++;
                spec_path_index(ipath, path, i);
                int r = parse_mount(v, ipath, &m[s->n_mounts - 1], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void spec_mounts_clear(struct berth_spec *s)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                struct berth_mount *m = &s->mounts[i];
                free(m->destination);
                free(m->type);
                free(m->source);
                free(m->data);
                free(m->uid_mappings);
                free(m->gid_mappings);
        }
        free(s->mounts);
        s->mounts = NULL;
        s->n_mounts = 0;
}
