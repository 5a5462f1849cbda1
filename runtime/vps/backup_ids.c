// SPDX-License-Identifier: GPL-2.0-or-later
/* Ids between a VPS's files on the host and a backup archive.
 *
 * A VPS with a user namespace keeps host ids base..base+size-1 on disk
 * for its guest ids 0..size-1. The archive holds guest ids, so that it
 * restores into whatever range the host picks then. Two xattrs carry ids
 * in their value and are shifted with the owners:
 *
 *   security.capability  a file capability set by the guest's root is
 *                        stored by the kernel as v3 with rootid = the
 *                        host uid of that root (v2 has no rootid: host
 *                        root, which a user namespace ignores); the
 *                        archive keeps v3 with the guest's rootid
 *   system.posix_acl_*   named user/group entries hold host ids */
#include <errno.h>
#include <string.h>

#include "runtime/vps/backup.h"

#define OVERFLOW_ID 65534u

/* <linux/capability.h> values, spelled out: the header's structs are
 * the kernel's view and not needed here. */
#define CAP_REV_MASK 0xFF000000u
#define CAP_REV2     0x02000000u
#define CAP_REV3     0x03000000u
#define CAP_V2_SIZE  20u
#define CAP_V3_SIZE  24u

/* POSIX ACL xattr: a 4-byte version (2), then 8-byte entries (tag u16,
 * perm u16, id u32), little endian. */
#define ACL_VERSION 2u
#define ACL_USER    0x02u
#define ACL_GROUP   0x08u

void vps_idshift_of(const struct berth_vps_config *cfg, struct vps_idshift *s)
{
        s->enabled = cfg->userns.enabled;
        s->base = cfg->userns.host_id;
        s->size = cfg->userns.size;
}

uint32_t vps_id_to_guest(const struct vps_idshift *s, uint32_t host)
{
        if (!s || !s->enabled)
                return host;
        if (host >= s->base && host - s->base < s->size)
                return host - s->base;
        return OVERFLOW_ID;
}

uint32_t vps_id_to_host(const struct vps_idshift *s, uint32_t guest)
{
        if (!s || !s->enabled)
                return guest;
        return s->base + (guest < s->size ? guest : OVERFLOW_ID);
}

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
        p[2] = (unsigned char)(v >> 16);
        p[3] = (unsigned char)(v >> 24);
}

static uint32_t shift(const struct vps_idshift *s, bool to_guest, uint32_t id)
{
        return to_guest ? vps_id_to_guest(s, id) : vps_id_to_host(s, id);
}

/* v2 on the host of a VPS with a user namespace means host root, whose
 * capabilities the guest does not get: archived as the guest's root all
 * the same (the admin who set it meant the guest). Restored into a user
 * namespace, a capability always becomes v3 with the new rootid. */
static int cap_shift(const struct vps_idshift *s, bool to_guest, unsigned char *buf, size_t *len, size_t cap)
{
        if (*len < 4)
                return -EINVAL;
        uint32_t rev = le32(buf) & CAP_REV_MASK;
        if (!((rev == CAP_REV2 && *len == CAP_V2_SIZE) || (rev == CAP_REV3 && *len == CAP_V3_SIZE)))
                return -EINVAL;
        if (!s || !s->enabled)
                return 0;
        if (cap < CAP_V3_SIZE)
                return -ENOSPC;
        uint32_t root = rev == CAP_REV3 ? le32(buf + CAP_V2_SIZE) : to_guest ? s->base : 0;
        put_le32(buf, (le32(buf) & ~CAP_REV_MASK) | CAP_REV3);
        put_le32(buf + CAP_V2_SIZE, shift(s, to_guest, root));
        *len = CAP_V3_SIZE;
        return 0;
}

/* Each named user/group entry's id through map(ctx, id). */
static int acl_map(unsigned char *buf, size_t len, uint32_t (*map)(const void *ctx, uint32_t id),
                   const void *ctx)
{
        if (len < 4 || (len - 4) % 8 || le32(buf) != ACL_VERSION)
                return -EINVAL;
        for (size_t off = 4; off < len; off += 8) {
                unsigned tag = (unsigned)buf[off] | (unsigned)buf[off + 1] << 8;
                if (tag == ACL_USER || tag == ACL_GROUP)
                        put_le32(buf + off + 4, map(ctx, le32(buf + off + 4)));
        }
        return 0;
}

struct shift_dir {
        const struct vps_idshift *s;
        bool to_guest;
};

static uint32_t map_shift(const void *ctx, uint32_t id)
{
        const struct shift_dir *d = ctx;
        return shift(d->s, d->to_guest, id);
}

static bool is_acl(const char *name)
{
        return !strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default");
}

int vps_xattr_shift(const struct vps_idshift *s, bool to_guest, const char *name, unsigned char *buf,
                    size_t *len, size_t cap)
{
        if (!strcmp(name, "security.capability"))
                return cap_shift(s, to_guest, buf, len, cap);
        if (is_acl(name))
                return acl_map(buf, *len, map_shift, &(struct shift_dir){s, to_guest});
        return 0;
}

uint32_t vps_id_rebase(const struct vps_idrebase *r, uint32_t id)
{
        return id >= r->from && id - r->from < r->size ? r->to + (id - r->from) : id;
}

static uint32_t map_rebase(const void *ctx, uint32_t id)
{
        return vps_id_rebase(ctx, id);
}

int vps_xattr_rebase(const struct vps_idrebase *r, const char *name, unsigned char *buf, size_t len)
{
        if (is_acl(name))
                return acl_map(buf, len, map_rebase, r);
        if (strcmp(name, "security.capability"))
                return 0;
        if (len < 4)
                return -EINVAL;
        uint32_t rev = le32(buf) & CAP_REV_MASK;
        if (rev == CAP_REV3 && len == CAP_V3_SIZE)
                put_le32(buf + CAP_V2_SIZE, vps_id_rebase(r, le32(buf + CAP_V2_SIZE)));
        else if (!(rev == CAP_REV2 && len == CAP_V2_SIZE))
                return -EINVAL;
        return 0;
}
