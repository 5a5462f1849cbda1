/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MS_* mount flags translated for the new mount API.
 *
 * The spec model carries mount(2)-style MS_* flags; fsmount() and
 * mount_setattr() want MOUNT_ATTR_* per-mount attributes, and superblock
 * flags (sync, dirsync, lazytime) go to fsconfig() as named flags. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

static const struct {
        unsigned long ms;
        uint64_t attr;
} ms_attrs[] = {
    {MS_RDONLY, MOUNT_ATTR_RDONLY},         {MS_NOSUID, MOUNT_ATTR_NOSUID},
    {MS_NODEV, MOUNT_ATTR_NODEV},           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
};

uint64_t berth_ms_to_mount_attr(unsigned long ms, bool *atime_set)
{
        uint64_t attr = 0;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ms_attrs); i++)
                if (ms & ms_attrs[i].ms)
                        attr |= ms_attrs[i].attr;
        /* The atime modes are one field, not independent bits: noatime wins
         * over strictatime over relatime, as in the kernel's mount(2). */
        bool set = true;
        if (ms & MS_NOATIME)
                attr |= MOUNT_ATTR_NOATIME;
        else if (ms & MS_STRICTATIME)
                attr |= MOUNT_ATTR_STRICTATIME;
        else if (ms & MS_RELATIME)
                attr |= MOUNT_ATTR_RELATIME;
        else
                set = false;
        if (atime_set)
                *atime_set = set;
        return attr;
}

unsigned long berth_propagation_ms(enum berth_propagation p)
{
        switch (p) {
        case BERTH_PROP_PRIVATE:
                return MS_PRIVATE;
        case BERTH_PROP_RPRIVATE:
                return MS_PRIVATE | MS_REC;
        case BERTH_PROP_SHARED:
                return MS_SHARED;
        case BERTH_PROP_RSHARED:
                return MS_SHARED | MS_REC;
        case BERTH_PROP_SLAVE:
                return MS_SLAVE;
        case BERTH_PROP_RSLAVE:
                return MS_SLAVE | MS_REC;
        case BERTH_PROP_UNBINDABLE:
                return MS_UNBINDABLE;
        case BERTH_PROP_RUNBINDABLE:
                return MS_UNBINDABLE | MS_REC;
        case BERTH_PROP_NONE:
                break;
        }
        return 0;
}

bool berth_mount_is_bind(const struct berth_mount *m)
{
        return m->bind || (m->type && strcmp(m->type, "bind") == 0);
}
