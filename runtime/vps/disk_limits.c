/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk and I/O limits as values: their checks, their keys in vps.json and
 * in the host defaults (vps-defaults.json). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <string.h>

#include "berth/vps.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/disk.h"

const char *berth_vps_disk_backend_name(enum berth_vps_disk_backend b)
{
        switch (b) {
        case BERTH_VPS_DISK_IMAGE:
                return "image";
        case BERTH_VPS_DISK_PROJECT:
                return "project";
        default:
                return "none";
        }
}

const char *berth_vps_disk_fs_name(enum berth_vps_disk_fs fs)
{
        return fs == BERTH_VPS_DISK_FS_BTRFS ? "btrfs" : "ext4";
}

int vps_storage_limits_check(const struct berth_vps_limits *l, struct berth_err *err)
{
        if (l->has_disk && l->disk < VPS_DISK_MIN)
                return berth_err_set(err, EINVAL, "--disk: at least %dM", (int)(VPS_DISK_MIN >> 20));
        if (l->has_disk && l->disk > VPS_DISK_MAX)
                return berth_err_set(err, EINVAL, "--disk: at most %dT", (int)(VPS_DISK_MAX >> 40));
        if (l->has_inodes && (l->inodes < VPS_INODES_MIN || l->inodes > UINT32_MAX))
                return berth_err_set(err, EINVAL, "--inodes: %d to %u", VPS_INODES_MIN, UINT32_MAX);
        if (l->has_inodes && !l->has_disk)
                return berth_err_set(err, EINVAL, "--inodes: needs --disk");
        if ((l->has_io_rbps && l->io_rbps < 4096) || (l->has_io_wbps && l->io_wbps < 4096))
                return berth_err_set(err, EINVAL, "--io-read/--io-write: at least 4K per second");
        if ((l->has_io_riops && l->io_riops < 1) || (l->has_io_wiops && l->io_wiops < 1))
                return berth_err_set(err, EINVAL, "--iops-read/--iops-write: at least 1");
        return 0;
}

static const struct {
        const char *key;
        size_t has, val;
        bool size;
} keys[] = {
    {"disk", offsetof(struct berth_vps_limits, has_disk), offsetof(struct berth_vps_limits, disk), true},
    {"inodes", offsetof(struct berth_vps_limits, has_inodes), offsetof(struct berth_vps_limits, inodes),
     false},
    {"io_read", offsetof(struct berth_vps_limits, has_io_rbps), offsetof(struct berth_vps_limits, io_rbps),
     true},
    {"io_write", offsetof(struct berth_vps_limits, has_io_wbps), offsetof(struct berth_vps_limits, io_wbps),
     true},
    {"iops_read", offsetof(struct berth_vps_limits, has_io_riops),
     offsetof(struct berth_vps_limits, io_riops), false},
    {"iops_write", offsetof(struct berth_vps_limits, has_io_wiops),
     offsetof(struct berth_vps_limits, io_wiops), false},
};

#define HAS(l, i) ((bool *)((char *)(l) + keys[i].has))
#define VAL(l, i) ((int64_t *)((char *)(l) + keys[i].val))

int vps_storage_default_key(const char *key, json_t *v, struct berth_vps_limits *d)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
                if (strcmp(key, keys[i].key))
                        continue;
                *HAS(d, i) = true;
                if (json_is_integer(v) && json_integer_value(v) > 0)
                        return *VAL(d, i) = json_integer_value(v), 0;
                if (keys[i].size && json_is_string(v))
                        return berth_vps_parse_size(json_string_value(v), VAL(d, i));
                return -EINVAL;
        }
        return -ENOENT;
}

void vps_storage_defaults_apply(struct berth_vps_limits *l, const struct berth_vps_limits *d)
{
        bool inodes_given = l->has_inodes;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                if (!*HAS(l, i) && *HAS(d, i)) {
                        *HAS(l, i) = true;
                        *VAL(l, i) = *VAL(d, i);
                }
        /* An inode default without a disk (given or default) means nothing. */
        if (!l->has_disk && !inodes_given)
                l->has_inodes = false;
}

bool vps_storage_has_io(const struct berth_vps_limits *l)
{
        return l->has_io_rbps || l->has_io_wbps || l->has_io_riops || l->has_io_wiops;
}

void vps_storage_limits_merge(struct berth_vps_limits *l, const struct berth_vps_limits *set,
                              const struct berth_vps_limits *clear)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
                if (*HAS(clear, i))
                        *HAS(l, i) = false;
                if (*HAS(set, i)) {
                        *HAS(l, i) = true;
                        *VAL(l, i) = *VAL(set, i);
                }
        }
}

bool vps_storage_limits_equal(const struct berth_vps_limits *a, const struct berth_vps_limits *b)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                if (*HAS(a, i) != *HAS(b, i) || (*HAS(a, i) && *VAL(a, i) != *VAL(b, i)))
                        return false;
        return true;
}

/* vps.json spells them out: bytes and operations per second. */
static const char *const json_keys[] = {"disk",         "inodes",       "io_read_bps",
                                        "io_write_bps", "io_read_iops", "io_write_iops"};

int vps_storage_limits_parse(json_t *o, struct berth_vps_limits *l, struct berth_err *err)
{
        for (size_t i = 0; o && i < BERTH_ARRAY_SIZE(keys); i++) {
                json_t *v = json_object_get(o, json_keys[i]);
                if (!v || json_is_null(v))
                        continue;
                if (!json_is_integer(v) || json_integer_value(v) < 0)
                        return berth_err_set(err, EINVAL, "vps.json: %s: not a non-negative integer",
                                             json_keys[i]);
                *HAS(l, i) = true;
                *VAL(l, i) = json_integer_value(v);
        }
        return 0;
}

int vps_storage_limits_json(json_t *o, const struct berth_vps_limits *l)
{
        int r = 0;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                if (*HAS(l, i))
                        r |= json_object_set_new(o, json_keys[i], json_integer(*VAL(l, i)));
        return r;
}

int vps_disk_parse(json_t *o, struct berth_vps_disk *d, struct berth_err *err)
{
        memset(d, 0, sizeof(*d));
        if (!o)
                return 0;
        const char *b = json_string_value(json_object_get(o, "backend"));
        json_t *id = json_object_get(o, "project_id");
        const char *fs = json_string_value(json_object_get(o, "fs"));
        if (b && !strcmp(b, "image") && fs && strcmp(fs, "ext4") && strcmp(fs, "btrfs"))
                return berth_err_set(err, EINVAL, "vps.json: disk: fs ext4 or btrfs, not \"%s\"", fs);
        /* An image without "fs" is ext4 (made before btrfs images were). */
        if (b && !strcmp(b, "image"))
                d->backend = BERTH_VPS_DISK_IMAGE,
                d->fs = fs && !strcmp(fs, "btrfs") ? BERTH_VPS_DISK_FS_BTRFS : BERTH_VPS_DISK_FS_EXT4;
        else if (b && !strcmp(b, "project") && json_is_integer(id) && json_integer_value(id) > 0 &&
                 json_integer_value(id) <= UINT32_MAX)
                d->backend = BERTH_VPS_DISK_PROJECT, d->project_id = (uint32_t)json_integer_value(id);
        else if (!b || strcmp(b, "none"))
                return berth_err_set(err, EINVAL,
                                     "vps.json: disk: backend image, project (with project_id) "
                                     "or none");
        return 0;
}

json_t *vps_disk_json(const struct berth_vps_disk *d)
{
        if (d->backend == BERTH_VPS_DISK_PROJECT)
                return json_pack("{s:s, s:I}", "backend", "project", "project_id", (json_int_t)d->project_id);
        if (d->backend == BERTH_VPS_DISK_IMAGE)
                return json_pack("{s:s, s:s}", "backend", "image", "fs", berth_vps_disk_fs_name(d->fs));
        return json_pack("{s:s}", "backend", berth_vps_disk_backend_name(d->backend));
}
