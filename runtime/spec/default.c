/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The config.json that `berth spec` writes: the same shape and defaults as
 * `runc spec` (and `runc spec --rootless`), plus a default seccomp profile
 * and "berth" as the hostname. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "runtime/spec/default_seccomp.h"
#include "runtime/spec/internal.h"

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/tpm",
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct default_mount {
        const char *destination, *type, *source;
        const char *options[7]; /* NULL-terminated */
};

static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", {NULL}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}},
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}},
};

/* Rootless: sysfs cannot be mounted without owning the network namespace,
 * so the host's /sys is bind-mounted read-only instead (as runc does). */
static const struct default_mount rootless_sys = {
    "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro", NULL}};

static json_t *string_array(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n && v[i]; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *make_process(void)
{
        static const char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                          "TERM=xterm"};
        size_t nc = BERTH_ARRAY_SIZE(default_caps);

        return json_pack("{s:b, s:{s:i, s:i}, s:[s], s:o, s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b}",
                         "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
                         string_array(env, BERTH_ARRAY_SIZE(env)), "cwd", "/", "capabilities", "bounding",
                         string_array(default_caps, nc), "effective", string_array(default_caps, nc),
                         "permitted", string_array(default_caps, nc), "rlimits", "type", "RLIMIT_NOFILE",
                         "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

/* Rootless drops uid=/gid= options: those ids are not mapped in the userns. */
static json_t *make_mount(const struct default_mount *m, bool rootless)
{
        json_t *opts = json_array();
        for (size_t i = 0; opts && m->options[i]; i++) {
                if (rootless &&
                    (strncmp(m->options[i], "uid=", 4) == 0 || strncmp(m->options[i], "gid=", 4) == 0))
                        continue;
                if (json_array_append_new(opts, json_string(m->options[i])) < 0) {
                        json_decref(opts);
                        return NULL;
                }
        }
        if (opts && json_array_size(opts) == 0) {
                json_decref(opts);
                return json_pack("{s:s, s:s, s:s}", "destination", m->destination, "type", m->type, "source",
                                 m->source);
        }
        return json_pack("{s:s, s:s, s:s, s:o}", "destination", m->destination, "type", m->type, "source",
                         m->source, "options", opts);
}

static json_t *make_mounts(bool rootless)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < BERTH_ARRAY_SIZE(default_mounts); i++) {
                const struct default_mount *m = &default_mounts[i];
                if (rootless && strcmp(m->destination, "/sys") == 0)
                        m = &rootless_sys;
                if (json_array_append_new(arr, make_mount(m, rootless)) < 0) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

/* runc's default has a cgroup namespace only on a pure cgroup v2 host: on
 * v1 and hybrid hosts its spec (and runc's own test suite, which adds one
 * itself where it wants it) leaves the container in the host's cgroup
 * namespace, and a config with the namespace listed twice is refused. */
static bool host_is_unified(void)
{
        enum berth_cgroup_layout layout;
        struct berth_err ignore;
        return berth_cgroup_detect_layout(&layout, &ignore) == 0 && layout == BERTH_CG_UNIFIED;
}

static json_t *make_namespaces(bool rootless)
{
        static const char *const types[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
        size_t n = BERTH_ARRAY_SIZE(types) - (host_is_unified() ? 0 : 1);
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < n; i++) {
                /* Without privileges the new netns would have no usable link. */
                if (rootless && strcmp(types[i], "network") == 0)
                        continue;
                if (json_array_append_new(arr, json_pack("{s:s}", "type", types[i])) < 0)
                        goto fail;
        }
        if (rootless && json_array_append_new(arr, json_pack("{s:s}", "type", "user")) < 0)
                goto fail;
        return arr;
fail:
        json_decref(arr);
        return NULL;
}

static json_t *id_mapping(unsigned host_id)
{
        return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host_id, "size", 1);
}

static json_t *make_linux(bool rootless)
{
        json_t *lx =
            json_pack("{s:o, s:o}", "maskedPaths", string_array(masked_paths, BERTH_ARRAY_SIZE(masked_paths)),
                      "readonlyPaths", string_array(readonly_paths, BERTH_ARRAY_SIZE(readonly_paths)));
        if (!lx)
                return NULL;
        /* Rootless containers cannot write cgroup files: no resources at all. */
        if (!rootless &&
            json_object_set_new(lx, "resources",
                                json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm")) < 0)
                goto fail;
        if (json_object_set_new(lx, "namespaces", make_namespaces(rootless)) < 0)
                goto fail;
        if (rootless && (json_object_set_new(lx, "uidMappings", id_mapping(geteuid())) < 0 ||
                         json_object_set_new(lx, "gidMappings", id_mapping(getegid())) < 0))
                goto fail;
        if (json_object_set_new(lx, "seccomp", default_seccomp_json()) < 0)
                goto fail;
        return lx;
fail:
        json_decref(lx);
        return NULL;
}

char *berth_spec_default_json(bool rootless, struct berth_err *err)
{
        _cleanup_json_ json_t *doc =
            json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.2.0", "process",
                      make_process(), "root", "path", "rootfs", "readonly", 1, "hostname", "berth", "mounts",
                      make_mounts(rootless), "linux", make_linux(rootless));
        if (!doc) {
                berth_err_set(err, ENOMEM, "default config: out of memory");
                return NULL;
        }
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                berth_err_set(err, ENOMEM, "default config: out of memory");
        return text;
}
