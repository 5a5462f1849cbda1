// SPDX-License-Identifier: GPL-2.0-or-later
/* Devices a VPS may be given (vps create|set --device): a short allow-list
 * of character devices that are safe to hand to an untrusted guest, as
 * Incus and OpenVZ offer them. Each becomes a node in the guest (the
 * runtime mknods it, or binds the host's node in a user namespace) and an
 * allow rule in the device cgroup (v1 devices.allow, the v2 eBPF program).
 * Only devices whose kernel side is namespaced or per-open are listed: a
 * tun/tap interface lives in the guest's network namespace, a FUSE mount in
 * its mount namespace, a PPP unit is per open file. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

static const struct vps_device {
        const char *name, *path, *module;
        unsigned bit;
        int major, minor;
} devices[] = {
    {"tun", "/dev/net/tun", "tun", BERTH_VPS_DEV_TUN, 10, 200},
    {"fuse", "/dev/fuse", "fuse", BERTH_VPS_DEV_FUSE, 10, 229},
    {"ppp", "/dev/ppp", "ppp_generic", BERTH_VPS_DEV_PPP, 108, 0},
};

int berth_vps_device_parse(const char *name, unsigned *bit)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(devices); i++)
                if (!strcmp(name, devices[i].name)) {
                        *bit = devices[i].bit;
                        return 0;
                }
        return -EINVAL;
}

void berth_vps_devices_format(unsigned set, char *out, size_t len)
{
        size_t at = 0;
        out[0] = '\0';
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(devices); i++)
                if ((set & devices[i].bit) && at < len)
                        at += (size_t)snprintf(out + at, len - at, "%s%s", at ? "," : "", devices[i].name);
}

/* In a user namespace the runtime binds the host's node, and a node
 * without its driver only fails at open: refuse what the host lacks now,
 * not at the next start. */
static int host_has(const struct vps_device *d, struct berth_err *err)
{
        struct stat sb;
        if (stat(d->path, &sb) < 0 || !S_ISCHR(sb.st_mode) ||
            sb.st_rdev != makedev((unsigned)d->major, (unsigned)d->minor))
                return berth_err_set(err, ENODEV, "device %s: the host has no %s (load the kernel module %s)",
                                     d->name, d->path, d->module);
        return 0;
}

static int parse_one(const char *name, unsigned *set, struct berth_err *err)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(devices); i++)
                if (!strcmp(name, devices[i].name)) {
                        *set |= devices[i].bit;
                        return host_has(&devices[i], err);
                }
        return berth_err_set(err, EINVAL, "--device %s: not one of tun, fuse, ppp (or none)", name);
}

int vps_devices_parse_list(const char *const *names, unsigned *set, struct berth_err *err)
{
        *set = 0;
        bool none = false;
        size_t n = 0;
        for (size_t i = 0; names && names[i]; i++) {
                char buf[256];
                snprintf(buf, sizeof(buf), "%s", names[i]);
                char *save = NULL;
                for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save), n++) {
                        if (!strcmp(w, "none")) {
                                none = true;
                                continue;
                        }
                        int r = parse_one(w, set, err);
                        if (r < 0)
                                return r;
                }
        }
        if (none && n > 1)
                return berth_err_set(err, EINVAL, "--device none: cannot be combined with a device");
        if (n == 0)
                return berth_err_set(err, EINVAL, "--device: empty");
        return 0;
}

json_t *vps_devices_json(unsigned set)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < BERTH_ARRAY_SIZE(devices); i++)
                if ((set & devices[i].bit) && json_array_append_new(a, json_string(devices[i].name)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int vps_devices_from_json(json_t *v, unsigned *set, struct berth_err *err)
{
        *set = 0;
        if (!v)
                return 0;
        if (!json_is_array(v))
                return berth_err_set(err, EINVAL, "vps.json: devices: not an array");
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
                unsigned bit = 0;
                if (!json_is_string(e) || berth_vps_device_parse(json_string_value(e), &bit) < 0)
                        return berth_err_set(err, EINVAL, "vps.json: devices[%zu]: not tun, fuse or ppp", i);
                *set |= bit;
        }
        return 0;
}

/* The node is bound from <dir>/devices/<name> (vps_devices_nodes), the
 * allow rule goes after the default deny of linux.resources.devices, so it
 * wins. Not linux.devices: in a user namespace the runtime would bind the
 * host's /dev node, which a host without udev keeps at 0600 for host root. */
int vps_devices_patch(json_t *doc, unsigned set)
{
        json_t *mounts = json_object_get(doc, "mounts");
        json_t *rules =
            json_object_get(json_object_get(json_object_get(doc, "linux"), "resources"), "devices");
        if (!json_is_array(mounts) || !json_is_array(rules))
                return -1;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(devices); i++) {
                const struct vps_device *d = &devices[i];
                if (!(set & d->bit))
                        continue;
                char src[64];
                snprintf(src, sizeof(src), VPS_DEVICES_DIR "/%s", d->name);
                if (json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination",
                                                            d->path, "type", "bind", "source", src, "options",
                                                            "bind", "nosuid", "noexec")) < 0 ||
                    json_array_append_new(rules, json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type",
                                                           "c", "major", d->major, "minor", d->minor,
                                                           "access", "rwm")) < 0)
                        return -1;
        }
        return 0;
}

/* As Incus does for a container's unix-char devices: host root makes the
 * nodes below the VPS directory, owned by the guest's root and readable
 * and writable by all (as udev makes /dev/net/tun and /dev/fuse), in a
 * directory only the guest's root may enter. Made afresh at every start,
 * so that a node the guest no longer has is gone. */
int vps_devices_nodes(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                      struct berth_err *err)
{
        char dir[PATH_MAX];
        int r = berth_vps_path(v, cfg->name, VPS_DEVICES_DIR, dir, sizeof(dir));
        if (r < 0)
                return berth_err_sys(err, -r, "VPS %s: devices", cfg->name);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(devices); i++) {
                char node[PATH_MAX];
                snprintf(node, sizeof(node), "%s/%s", dir, devices[i].name);
                if (unlink(node) < 0 && errno != ENOENT && errno != ENOTDIR)
                        return berth_err_sys(err, errno, "remove %s", node);
        }
        if (!cfg->devices)
                return rmdir(dir) < 0 && errno != ENOENT ? berth_err_sys(err, errno, "rmdir %s", dir) : 0;
        uid_t owner = vps_host_uid(cfg, 0);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", dir);
        struct statvfs sv;
        if (chown(dir, owner, owner) < 0 || chmod(dir, 0700) < 0 || statvfs(dir, &sv) < 0)
                return berth_err_sys(err, errno, "%s", dir);
        if (sv.f_flag & ST_NODEV)
                return berth_err_set(
                    err, EPERM, "--device: %s is on a nodev mount: the data directory must allow devices",
                    dir);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(devices); i++) {
                const struct vps_device *d = &devices[i];
                char node[PATH_MAX];
                snprintf(node, sizeof(node), "%s/%s", dir, d->name);
                if (!(cfg->devices & d->bit))
                        continue;
                if (mknod(node, S_IFCHR | 0666, makedev((unsigned)d->major, (unsigned)d->minor)) < 0 ||
                    chown(node, owner, owner) < 0 || chmod(node, 0666) < 0)
                        return berth_err_sys(err, errno, "device %s: mknod %s", d->name, node);
                vps_trace(v, "VPS %s: device %s at %s", cfg->name, d->path, node);
        }
        return 0;
}
