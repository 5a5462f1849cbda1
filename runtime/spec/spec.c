/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.json -> struct berth_spec: the top level of the document (ociVersion,
 * root, hostname, annotations), loading from a bundle, and freeing.
 *
 * The whole document is validated before anything runs, so a container never
 * fails half-created because of a typo in config.json. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/spec/internal.h"

/* Far above any real config (a full seccomp profile is ~100 KiB); bounds the
 * memory a hostile bundle can make us allocate. */
#define SPEC_MAX_SIZE (64u << 20)

/* sethostname(2) refuses longer names; say so before anything is created. */
#define SPEC_HOST_NAME_MAX 64

/* Reads one decimal component; advances *p. */
static bool read_version_number(const char **p, unsigned long *out)
{
        if (**p < '0' || **p > '9')
                return false;
        char *end;
        errno = 0;
        *out = strtoul(*p, &end, 10);
        if (errno)
                return false;
        *p = end;
        return true;
}

/* SemVer MAJOR.MINOR.PATCH with an optional -prerelease/+build suffix; the
 * runtime implements spec 1.0 through 1.3 ("1.0.2-dev" and "1.0.0-rc5" too). */
static int check_oci_version(const char *v, struct berth_err *err)
{
        unsigned long major, minor, patch;
        const char *p = v;

        if (!read_version_number(&p, &major) || *p++ != '.' || !read_version_number(&p, &minor) ||
            *p++ != '.' || !read_version_number(&p, &patch) || (*p && *p != '-' && *p != '+'))
                return spec_fail(err, "ociVersion", "invalid version \"%s\" (expected MAJOR.MINOR.PATCH)", v);
        if (major != 1 || minor > 3)
                return spec_fail(err, "ociVersion", "unsupported version \"%s\" (supported: 1.0.0 to 1.3.x)",
                                 v);
        return 0;
}

static int parse_root(json_t *doc, struct berth_spec *s, struct berth_err *err)
{
        json_t *root;
        int r = spec_get_object(doc, "", "root", &root, err);

        if (r < 0)
                return r;
        if (r == 0)
                return spec_fail(err, "root", "missing required field");
        r = spec_get_string(root, "root", "path", &s->root_path, err);
        if (r < 0)
                return r;
        if (r == 0 || !s->root_path[0])
                return spec_fail(err, "root.path", r == 0 ? "missing required field" : "must not be empty");
        r = spec_get_bool(root, "root", "readonly", &s->root_readonly, err);
        return r < 0 ? r : 0;
}

static int parse_names(json_t *doc, struct berth_spec *s, struct berth_err *err)
{
        static const char *const keys[] = {"hostname", "domainname"};
        char **fields[] = {&s->hostname, &s->domainname};

        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
                int r = spec_get_string(doc, "", keys[i], fields[i], err);
                if (r < 0)
                        return r;
                if (r > 0 && strlen(*fields[i]) > SPEC_HOST_NAME_MAX)
                        return spec_fail(err, keys[i], "longer than %d characters", SPEC_HOST_NAME_MAX);
        }
        return 0;
}

static int parse_version(json_t *doc, struct berth_spec *s, struct berth_err *err)
{
        int r = spec_get_string(doc, "", "ociVersion", &s->oci_version, err);
        if (r < 0)
                return r;
        if (r == 0)
                return spec_fail(err, "ociVersion", "missing required field");
        return check_oci_version(s->oci_version, err);
}

/* Rules that tie sections together, checked once every section is parsed. */
static int check_cross_fields(const struct berth_spec *s, struct berth_err *err)
{
        if (s->hostname && s->hostname[0] && !s->namespaces[BERTH_NS_UTS].present)
                return spec_fail(err, "hostname", "setting a hostname requires a \"uts\" namespace");
        if (s->domainname && s->domainname[0] && !s->namespaces[BERTH_NS_UTS].present)
                return spec_fail(err, "domainname", "setting a domainname requires a \"uts\" namespace");
        if ((s->n_uid_mappings || s->n_gid_mappings) && !s->namespaces[BERTH_NS_USER].present)
                return spec_fail(err, s->n_uid_mappings ? "linux.uidMappings" : "linux.gidMappings",
                                 "id mappings require a \"user\" namespace");
        /* A joined user namespace is already mapped; the spec says to refuse. */
        if ((s->n_uid_mappings || s->n_gid_mappings) && s->namespaces[BERTH_NS_USER].path)
                return spec_fail(err, s->n_uid_mappings ? "linux.uidMappings" : "linux.gidMappings",
                                 "id mappings cannot be given when joining a user namespace by path");
        for (int i = 0; i < 2; i++)
                if (s->time_offsets[i].present && !s->namespaces[BERTH_NS_TIME].present)
                        return spec_fail(err, "linux.timeOffsets",
                                         "time offsets require a \"time\" namespace");
        return 0;
}

static int parse_document(json_t *doc, struct berth_spec *s, struct berth_err *err)
{
        json_t *v;
        int r;

        if (!json_is_object(doc))
                return berth_err_set(err, EINVAL, "the configuration must be a JSON object");
        if ((r = parse_version(doc, s, err)) < 0 || (r = parse_root(doc, s, err)) < 0 ||
            (r = parse_names(doc, s, err)) < 0)
                return r;
        if ((r = spec_get_object(doc, "", "process", &v, err)) < 0)
                return r;
        s->has_process = r > 0;
        if (v && (r = spec_parse_process(v, "process", &s->process, err)) < 0)
                return r;
        if ((r = spec_get_array(doc, "", "mounts", &v, err)) < 0)
                return r;
        if (v && (r = spec_parse_mounts(v, "mounts", s, err)) < 0)
                return r;
        if ((r = spec_get_object(doc, "", "hooks", &v, err)) < 0)
                return r;
        if (v && (r = spec_parse_hooks(v, "hooks", &s->hooks, err)) < 0)
                return r;
        if ((r = spec_get_string_map(doc, "", "annotations", &s->annotations, &s->n_annotations, err)) < 0)
                return r;
        if ((r = spec_get_object(doc, "", "linux", &v, err)) < 0)
                return r;
        if (v && (r = spec_parse_linux(v, "linux", s, err)) < 0)
                return r;
        return check_cross_fields(s, err);
}

struct berth_spec *berth_spec_parse(const char *json, size_t len, struct berth_err *err)
{
        struct berth_spec *s;
        _cleanup_json_ json_t *doc = spec_load_json(json, len, err);

        if (!doc)
                return NULL;
        s = calloc(1, sizeof(*s));
        if (!s) {
                berth_err_set(err, ENOMEM, "out of memory");
                return NULL;
        }
        int r = parse_document(doc, s, err);
        if (r < 0) {
                berth_spec_free(s);
                return NULL;
        }
        return s;
}

/* Reads a whole regular file into a NUL-terminated buffer. */
static char *read_config(int fd, size_t *len, struct berth_err *err)
{
        struct stat st;

        if (fstat(fd, &st) < 0) {
                berth_err_sys(err, errno, "config.json: stat");
                return NULL;
        }
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SPEC_MAX_SIZE) {
                berth_err_set(err, EINVAL, "config.json: not a regular file of at most %u bytes",
                              SPEC_MAX_SIZE);
                return NULL;
        }
        char *buf = NULL;
        int r = berth_read_fd(fd, SPEC_MAX_SIZE, &buf, len);
        if (r < 0)
                berth_err_sys(err, -r, "config.json: read");
        return buf;
}

struct berth_spec *berth_spec_load(int bundle_dir_fd, struct berth_err *err)
{
        _cleanup_close_ int fd = openat(bundle_dir_fd, "config.json", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = 0;

        if (fd < 0) {
                berth_err_sys(err, errno, "config.json: open");
                return NULL;
        }
        _cleanup_free_ char *buf = read_config(fd, &len, err);
        if (!buf)
                return NULL;
        struct berth_spec *s = berth_spec_parse(buf, len, err);
        if (!s)
                berth_err_wrap(err, "config.json");
        return s;
}

const char *berth_spec_annotation(const struct berth_spec *s, const char *key)
{
        for (size_t i = 0; i < s->n_annotations; i++)
                if (!strcmp(s->annotations[i].key, key))
                        return s->annotations[i].value ?: "";
        return NULL;
}

void berth_spec_free(struct berth_spec *s)
{
        if (!s)
                return;
        free(s->oci_version);
        free(s->root_path);
        spec_process_clear(&s->process);
        free(s->hostname);
        free(s->domainname);
        spec_mounts_clear(s);
        spec_hooks_clear(&s->hooks);
        spec_key_values_free(s->annotations, s->n_annotations);
        spec_linux_clear(s);
        free(s);
}
