// SPDX-License-Identifier: GPL-2.0-or-later
/* What the guest sees of itself (docs/vps.md, "What the guest sees"): the
 * parts of a VPS's config.json that make it look like a machine of its
 * own rather than a slice of the host.
 *
 *   - run.berth.lxcfs=auto: the runtime binds lxcfs's /proc and /sys files
 *     (berth/lxcfs.h) when lxcfs runs, so free, top and uptime show the
 *     VPS's limits, uptime and load;
 *   - a cpuset of ceil(--cpus) CPUs, so that nproc, which counts the
 *     affinity mask, and every runtime that sizes its thread pools from it
 *     see that many CPUs (pick_cpus: the least used CPUs);
 *   - its own boot_id, a file of the VPS directory written at every start
 *     (identity.c) bound over /proc/sys/kernel/random/boot_id;
 *   - /proc/sys/net writable (the VPS's own network namespace: ip_forward,
 *     TCP tuning, systemd-sysctl) and the rest of /proc/sys read-only,
 *     as LXC's proc:mixed;
 *   - the devices of --device (devices.c);
 *   - sysinfo(2) answered by the VPS's console keeper (sysinfo.c), for
 *     busybox free and uptime, which do not read /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/lxcfs.h"
#include "berth/proc.h"
#include "berth/spec.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define MAX_CPUS CPU_SETSIZE

/* "0-2,5" -> count[i]++ for each CPU i listed. */
static void cpulist_count(const char *s, unsigned *count)
{
        while (s && *s) {
                char *end;
                long a = strtol(s, &end, 10), b = a;
                if (end == s)
                        return;
                if (*end == '-')
                        b = strtol(end + 1, &end, 10);
                for (long i = a; i <= b && i >= 0 && i < MAX_CPUS; i++)
                        count[i]++;
                s = *end == ',' ? end + 1 : NULL;
        }
}

/* The cpuset of another running VPS, from the config.json it runs with. */
static void count_vps(const struct berth_vps_ctx *v, const char *name, unsigned *count)
{
        struct berth_container_info info;
        struct berth_err err = {0};
        if (vps_container_load(v, name, &info, &err) < 0)
                return;
        bool live = info.status == BERTH_STATUS_RUNNING || info.status == BERTH_STATUS_PAUSED;
        berth_container_info_clear(&info);
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (!live || berth_vps_path(v, name, "config.json", path, sizeof(path)) < 0 ||
            berth_read_file_at(AT_FDCWD, path, 0, 64 << 20, &text, &len) < 0)
                return;
        _cleanup_json_ json_t *doc = json_loadb(text, len, 0, NULL);
        json_t *cpu = json_object_get(json_object_get(json_object_get(doc, "linux"), "resources"), "cpu");
        cpulist_count(json_string_value(json_object_get(cpu, "cpus")), count);
}

/* ceil(--cpus) CPUs of those we may use: the ones fewest other running VPS
 * of this data directory are pinned to, the lowest numbers on a tie (as
 * Incus balances limits.cpu). 0 and an empty list when the VPS gets every
 * CPU anyway (no --cpus, or as many as the host has). */
static int pick_cpus(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, char *out, size_t len)
{
        out[0] = '\0';
        if (!cfg->limits.has_cpus)
                return 0;
        uint64_t want = (cfg->limits.cpu_quota + BERTH_VPS_CPU_PERIOD - 1) / BERTH_VPS_CPU_PERIOD;
        cpu_set_t mine;
        if (sched_getaffinity(0, sizeof(mine), &mine) < 0 || want >= (uint64_t)CPU_COUNT(&mine))
                return 0;
        _cleanup_free_ unsigned *count = calloc(MAX_CPUS, sizeof(*count));
        if (!count)
                return -ENOMEM;
        char **names = NULL;
        struct berth_err err = {0};
        if (berth_vps_list_names(v, &names, &err) >= 0)
                for (size_t i = 0; names[i]; i++)
                        if (strcmp(names[i], cfg->name))
                                count_vps(v, names[i], count);
        vps_strv_free(names);
        size_t at = 0;
        for (uint64_t k = 0; k < want; k++) {
                int best = -1;
                for (int c = 0; c < MAX_CPUS; c++)
                        if (CPU_ISSET(c, &mine) && (best < 0 || count[c] < count[best]))
                                best = c;
                CPU_CLR(best, &mine);
                at += (size_t)snprintf(out + at, at < len ? len - at : 0, "%s%d", k ? "," : "", best);
        }
        return at < len ? 1 : -ENAMETOOLONG;
}

/* Every CPU we may use, as a list: the cpuset that lifts a pinning. */
static int all_cpus(char *out, size_t len)
{
        cpu_set_t mine;
        if (sched_getaffinity(0, sizeof(mine), &mine) < 0)
                return -errno;
        size_t at = 0;
        for (int c = 0; c < MAX_CPUS; c++)
                if (CPU_ISSET(c, &mine))
                        at += (size_t)snprintf(out + at, at < len ? len - at : 0, "%s%d", at ? "," : "", c);
        return at < len ? 0 : -ENAMETOOLONG;
}

int vps_view_cpuset_live(const struct berth_vps_ctx *v, const char *name, const struct berth_vps_limits *l,
                         struct berth_resources *res, struct berth_err *err)
{
        struct berth_vps_config c = {.name = (char *)name, .limits = *l};
        char cpus[4096];
        int r = pick_cpus(v, &c, cpus, sizeof(cpus));
        if (r == 0)
                r = all_cpus(cpus, sizeof(cpus));
        if (r < 0)
                return berth_err_sys(err, -r, "VPS %s: cpuset", name);
        free(res->cpu.cpus);
        if (!(res->cpu.cpus = strdup(cpus)))
                return berth_err_set(err, ENOMEM, "VPS %s: cpuset: out of memory", name);
        vps_trace(v, "VPS %s: cpuset %s, live", name, cpus);
        return 0;
}

/* /proc/sys read-only but for net: each top-level directory but net is a
 * read-only path instead of /proc/sys as a whole (a read-only /proc/sys
 * bind is recursive and would take a writable net along). */
static int proc_sys_mixed(json_t *lx)
{
        json_t *ro = json_object_get(lx, "readonlyPaths");
        size_t i;
        json_t *e;
        json_array_foreach(ro, i, e) if (!strcmp(json_string_value(e) ?: "", "/proc/sys"))
        {
                if (json_array_remove(ro, i) < 0)
                        return -1;
                break;
        }
        _cleanup_closedir_ DIR *d = opendir("/proc/sys");
        if (!d)
                return -1;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !strcmp(de->d_name, "net"))
                        continue;
                char path[300];
                snprintf(path, sizeof(path), "/proc/sys/%s", de->d_name);
                if (json_array_append_new(ro, json_string(path)) < 0)
                        return -1;
        }
        return 0;
}

/* Relative source: the VPS directory (the bundle), see identity.c. */
static int boot_id_mount(json_t *mounts)
{
        return json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s]}", "destination",
                                                       "/proc/sys/kernel/random/boot_id", "type", "bind",
                                                       "source", VPS_BOOT_ID_FILE, "options", "bind", "ro",
                                                       "nosuid", "nodev", "noexec"));
}

/* sysinfo and sync to the keeper's listener socket (sysinfo.c, sync.c);
 * the rest of the profile stays. */
static int keeper_notify(json_t *lx, const char *listener)
{
        json_t *sc = json_object_get(lx, "seccomp");
        json_t *calls = json_object_get(sc, "syscalls");
        if (!sc || !calls || json_object_set_new(sc, "listenerPath", json_string(listener)) < 0)
                return -1;
        return json_array_append_new(
            calls, json_pack("{s:[s, s], s:s}", "names", "sysinfo", "sync", "action", "SCMP_ACT_NOTIFY"));
}

static int patch_view(json_t *doc, const struct berth_vps_config *cfg, const char *cpus, const char *listener)
{
        json_t *lx = json_object_get(doc, "linux");
        json_t *ann = json_object_get(doc, "annotations");
        if (!lx || !ann || json_object_set_new(ann, BERTH_LXCFS_ANNOTATION, json_string("auto")) < 0 ||
            proc_sys_mixed(lx) < 0 || boot_id_mount(json_object_get(doc, "mounts")) < 0 ||
            vps_devices_patch(doc, cfg->devices) < 0 || keeper_notify(lx, listener) < 0)
                return -1;
        json_t *cpu = json_object_get(json_object_get(lx, "resources"), "cpu");
        if (*cpus && (!cpu || json_object_set_new(cpu, "cpus", json_string(cpus)) < 0))
                return -1;
        return 0;
}

char *vps_spec_json(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, char *const *init,
                    const char *cgroup, struct berth_err *err)
{
        _cleanup_free_ char *base = berth_spec_vps_json(cfg, init, cgroup, err);
        if (!base)
                return NULL;
        char cpus[4096];
        int r = pick_cpus(v, cfg, cpus, sizeof(cpus));
        if (r < 0) {
                berth_err_sys(err, -r, "VPS %s: cpuset", cfg->name);
                return NULL;
        }
        if (r > 0)
                vps_trace(v, "VPS %s: cpuset %s (ceil of --cpus, least used CPUs)", cfg->name, cpus);
        char listener[PATH_MAX];
        if (berth_vps_path(v, cfg->name, VPS_SYSINFO_SOCK, listener, sizeof(listener)) < 0) {
                berth_err_set(err, ENAMETOOLONG, "VPS %s: sysinfo socket path too long", cfg->name);
                return NULL;
        }
        _cleanup_json_ json_t *doc = json_loads(base, 0, NULL);
        char *text = NULL;
        if (doc && patch_view(doc, cfg, cpus, listener) == 0)
                text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text) {
                berth_err_set(err, ENOMEM, "VPS %s: config.json: the guest's view", cfg->name);
                return NULL;
        }
        /* Never hand out a config the runtime would refuse. */
        struct berth_spec *check = berth_spec_parse(text, strlen(text), err);
        if (!check) {
                free(text);
                berth_err_wrap(err, "VPS %s: generated config.json", cfg->name);
                return NULL;
        }
        berth_spec_free(check);
        return text;
}

/* The guest's /proc/meminfo is lxcfs's (the runtime bound it at create)
 * and lxcfs still answers: a dead lxcfs leaves the bind, which then fails
 * every read with ENOTCONN. */
bool vps_view_lxcfs_active(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
        _cleanup_free_ char *text = NULL;
        if (berth_read_file_at(AT_FDCWD, path, 0, 64 << 20, &text, NULL) < 0)
                return false;
        bool bound = false;
        char *cursor = text;
        struct berth_mountinfo_entry e;
        while (!bound && berth_mountinfo_next(&cursor, &e))
                bound = !strcmp(e.mount_point, "/proc/meminfo") && !strncmp(e.fstype, "fuse", 4);
        if (!bound)
                return false;
        snprintf(path, sizeof(path), "/proc/%d/root/proc/meminfo", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char c;
        return fd >= 0 && read(fd, &c, 1) == 1;
}

int vps_view_prepare(const struct berth_vps_ctx *v, int root_fd, const struct berth_vps_config *cfg,
                     struct berth_err *err)
{
        int r = vps_identity_files(v, root_fd, cfg, err);
        if (r >= 0 && (r = vps_devices_nodes(v, cfg, err)) < 0)
                berth_err_wrap(err, "VPS %s", cfg->name);
        return r;
}
