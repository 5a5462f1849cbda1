/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "linux" object: namespaces, id mappings, time offsets, devices, sysctl,
 * masked/read-only paths, propagation, personality; resources and seccomp
 * have their own files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "runtime/spec/internal.h"

static int parse_ns_type(const char *name, const char *path, enum berth_ns_type *out, struct berth_err *err)
{
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                if (strcmp(berth_ns_type_name(t), name) == 0) {
                        *out = t;
                        return 0;
                }
        return spec_fail(err, path, "unknown namespace type \"%s\"", name);
}

static int parse_namespace(json_t *v, const char *path, struct berth_spec *s, struct berth_err *err)
{
        char tpath[SPEC_PATH_MAX], ppath[SPEC_PATH_MAX];
        _cleanup_free_ char *type = NULL, *nspath = NULL;
        enum berth_ns_type t = BERTH_NS_PID;
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(tpath, path, "type");
        if ((r = spec_get_string(v, path, "type", &type, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, tpath, "missing required field");
        if ((r = parse_ns_type(type, tpath, &t, err)) < 0)
                return r;
        if (s->namespaces[t].present)
                return spec_fail(err, tpath, "duplicate namespace type \"%s\"", type);
        spec_path_key(ppath, path, "path");
        if ((r = spec_get_string(v, path, "path", &nspath, err)) < 0)
                return r;
        if (r > 0 && (r = spec_check_abs_path(nspath, ppath, err)) < 0)
                return r;
        s->namespaces[t].present = true;
        s->namespaces[t].path = TAKE_PTR(nspath);
        return 0;
}

static int parse_namespaces(json_t *lx, const char *parent, struct berth_spec *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(lx, parent, "namespaces", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "namespaces");
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_namespace(v, ipath, s, err)) < 0)
                        return r;
        }
        return 0;
}

static int parse_time_offset(json_t *to, const char *parent, const char *clock, struct berth_time_offset *o,
                             struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v;
        int64_t ns = 0;
        int r = spec_get_object(to, parent, clock, &v, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, clock);
        if ((r = spec_get_int(v, path, "secs", INT64_MIN, INT64_MAX, &o->secs, err)) < 0 ||
            (r = spec_get_int(v, path, "nanosecs", 0, 999999999, &ns, err)) < 0)
                return r;
        o->nanosecs = (uint32_t)ns;
        o->present = true;
        return 0;
}

static int parse_time_offsets(json_t *lx, const char *parent, struct berth_spec *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], kpath[SPEC_PATH_MAX];
        const char *key;
        json_t *to, *v;
        int r = spec_get_object(lx, parent, "timeOffsets", &to, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "timeOffsets");
        /* The keys are data here (clock names), so an unknown one is an error:
         * /proc/self/timens_offsets only has these two clocks. */
        json_object_foreach(to, key, v)
        {
                spec_path_key(kpath, path, key);
                if (strcmp(key, "monotonic") != 0 && strcmp(key, "boottime") != 0)
                        return spec_fail(err, kpath, "unknown clock (expected monotonic or boottime)");
        }
        if ((r = parse_time_offset(to, path, "monotonic", &s->time_offsets[0], err)) < 0 ||
            (r = parse_time_offset(to, path, "boottime", &s->time_offsets[1], err)) < 0)
                return r;
        return 0;
}

static int parse_device_numbers(json_t *v, const char *path, struct berth_device *d, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int r1, r2;

        if ((r1 = spec_get_int(v, path, "major", 0, INT64_MAX, &d->major, err)) < 0 ||
            (r2 = spec_get_int(v, path, "minor", 0, INT64_MAX, &d->minor, err)) < 0)
                return -EINVAL;
        /* A FIFO has no device number; every other node needs both. */
        if (d->type != 'p' && (r1 == 0 || r2 == 0)) {
                spec_path_key(fpath, path, r1 == 0 ? "major" : "minor");
                return spec_fail(err, fpath, "required for device type '%c'", d->type);
        }
        return 0;
}

static int parse_device_type(json_t *v, const char *path, struct berth_device *d, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        _cleanup_free_ char *type = NULL;
        int r = spec_get_string(v, path, "type", &type, err);

        spec_path_key(fpath, path, "type");
        if (r < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return spec_fail(err, fpath, "unknown device type \"%s\" (expected c, b, u or p)", type);
        d->type = type[0];
        return 0;
}

static int parse_device(json_t *v, const char *path, struct berth_device *d, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int64_t x;
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(fpath, path, "path");
        if ((r = spec_get_string(v, path, "path", &d->path, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        if ((r = spec_check_abs_path(d->path, fpath, err)) < 0 ||
            (r = parse_device_type(v, path, d, err)) < 0 || (r = parse_device_numbers(v, path, d, err)) < 0)
                return r;
        if ((r = spec_get_int(v, path, "fileMode", 0, UINT32_MAX, &x, err)) < 0)
                return r;
        /* Some engines send st_mode with the S_IFCHR bits; only the
         * permission bits are ours to use, mknod adds the type. */
        d->has_file_mode = r > 0;
        d->file_mode = (mode_t)(x & 07777);
        if ((r = spec_get_int(v, path, "uid", 0, UINT32_MAX - 1, &x, err)) < 0)
                return r;
        d->has_uid = r > 0;
        d->uid = (uid_t)x;
        if ((r = spec_get_int(v, path, "gid", 0, UINT32_MAX - 1, &x, err)) < 0)
                return r;
        d->has_gid = r > 0;
        d->gid = (gid_t)x;
        return 0;
}

static int parse_devices(json_t *lx, const char *parent, struct berth_spec *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(lx, parent, "devices", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "devices");
        s->devices = calloc(json_array_size(arr) + 1, sizeof(*s->devices));
        if (!s->devices)
                return spec_oom(err, path);
        s->n_devices = json_array_size(arr);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_device(v, ipath, &s->devices[i], err)) < 0)
                        return r;
        }
        return 0;
}

/* Sysctl keys become paths under /proc/sys; a ".." would escape it. */
static int check_sysctl(const struct berth_spec *s, const char *parent, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], kpath[SPEC_PATH_MAX];

        spec_path_key(path, parent, "sysctl");
        for (size_t i = 0; i < s->n_sysctl; i++) {
                const char *k = s->sysctl[i].key;
                spec_path_key(kpath, path, k);
                if (!k[0] || k[0] == '/' || k[0] == '.' || strstr(k, ".."))
                        return spec_fail(err, kpath, "invalid sysctl name");
        }
        return 0;
}

int spec_parse_propagation(json_t *v, const char *path, enum berth_propagation *out, struct berth_err *err)
{
        static const char *const names[] = {
            [BERTH_PROP_PRIVATE] = "private",       [BERTH_PROP_RPRIVATE] = "rprivate",
            [BERTH_PROP_SHARED] = "shared",         [BERTH_PROP_RSHARED] = "rshared",
            [BERTH_PROP_SLAVE] = "slave",           [BERTH_PROP_RSLAVE] = "rslave",
            [BERTH_PROP_UNBINDABLE] = "unbindable", [BERTH_PROP_RUNBINDABLE] = "runbindable",
        };

        if (!spec_is_string(v))
                return spec_fail(err, path, "must be a string");
        const char *s = json_string_value(v);
        if (!s[0]) {
                *out = BERTH_PROP_NONE;
                return 0;
        }
        for (size_t i = 1; i < BERTH_ARRAY_SIZE(names); i++)
                if (strcmp(names[i], s) == 0) {
                        *out = (enum berth_propagation)i;
                        return 0;
                }
        return spec_fail(err, path, "unknown propagation \"%s\"", s);
}

static int parse_personality(json_t *lx, const char *parent, struct berth_spec *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], dpath[SPEC_PATH_MAX];
        _cleanup_strv_ char **flags = NULL;
        size_t n_flags = 0;
        json_t *pers;
        int r = spec_get_object(lx, parent, "personality", &pers, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "personality");
        spec_path_key(dpath, path, "domain");
        if ((r = spec_get_string(pers, path, "domain", &s->personality_domain, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, dpath, "missing required field");
        if (strcmp(s->personality_domain, "LINUX") != 0 && strcmp(s->personality_domain, "LINUX32") != 0)
                return spec_fail(err, dpath, "unknown domain \"%s\" (expected LINUX or LINUX32)",
                                 s->personality_domain);
        /* No flags are defined by the spec yet; only the type is checked. */
        if ((r = spec_get_strv(pers, path, "flags", &flags, &n_flags, err)) < 0)
                return r;
        s->has_personality = true;
        return 0;
}

static int parse_paths(json_t *lx, const char *parent, struct berth_spec *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v;
        int r;

        if ((r = spec_get_string(lx, parent, "cgroupsPath", &s->cgroups_path, err)) < 0 ||
            (r = spec_get_abs_pathv(lx, parent, "maskedPaths", &s->masked_paths, &s->n_masked_paths, err)) <
                0 ||
            (r = spec_get_abs_pathv(lx, parent, "readonlyPaths", &s->readonly_paths, &s->n_readonly_paths,
                                    err)) < 0 ||
            (r = spec_get_string(lx, parent, "mountLabel", &s->mount_label, err)) < 0)
                return r;
        v = spec_member(lx, "rootfsPropagation");
        spec_path_key(path, parent, "rootfsPropagation");
        if (v && (r = spec_parse_propagation(v, path, &s->rootfs_propagation, err)) < 0)
                return r;
        return 0;
}

static int parse_sections(json_t *lx, const char *parent, struct berth_spec *s, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v;
        int r;

        if ((r = spec_get_object(lx, parent, "resources", &v, err)) < 0)
                return r;
        spec_path_key(path, parent, "resources");
        s->has_resources = r > 0;
        if (v && (r = spec_parse_resources(v, path, &s->resources, err)) < 0)
                return r;
        if ((r = spec_get_object(lx, parent, "seccomp", &v, err)) < 0)
                return r;
        spec_path_key(path, parent, "seccomp");
        s->has_seccomp = r > 0;
        if (v && (r = spec_parse_seccomp(v, path, &s->seccomp, err)) < 0)
                return r;
        return 0;
}

int spec_parse_linux(json_t *lx, const char *path, struct berth_spec *s, struct berth_err *err)
{
        int r;

        if ((r = parse_namespaces(lx, path, s, err)) < 0 ||
            (r = spec_get_id_mappings(lx, path, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err)) <
                0 ||
            (r = spec_get_id_mappings(lx, path, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err)) <
                0 ||
            (r = parse_time_offsets(lx, path, s, err)) < 0 || (r = parse_devices(lx, path, s, err)) < 0 ||
            (r = spec_get_string_map(lx, path, "sysctl", &s->sysctl, &s->n_sysctl, err)) < 0 ||
            (r = check_sysctl(s, path, err)) < 0 || (r = parse_paths(lx, path, s, err)) < 0 ||
            (r = parse_personality(lx, path, s, err)) < 0 || (r = parse_sections(lx, path, s, err)) < 0)
                return r;
        return 0;
}

void spec_linux_clear(struct berth_spec *s)
{
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                free(s->namespaces[t].path);
        free(s->uid_mappings);
        free(s->gid_mappings);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        free(s->cgroups_path);
        spec_resources_clear(&s->resources);
        spec_key_values_free(s->sysctl, s->n_sysctl);
        spec_seccomp_clear(&s->seccomp);
        spec_strv_free(s->masked_paths);
        spec_strv_free(s->readonly_paths);
        free(s->mount_label);
        free(s->personality_domain);
}
