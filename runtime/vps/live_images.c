// SPDX-License-Identifier: GPL-2.0-or-later
/* The criu images a live migration keeps in a VPS's directory (live.c):
 * whether there is a final dump, and their removal (after a restore, and
 * at a start, where they are stale). A file of its own: start.c removes
 * them and live.c uses start.c. */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

void vps_live_images_remove(const struct berth_vps_ctx *v, const char *name)
{
        char dir[PATH_MAX];
        berth_vps_path(v, name, NULL, dir, sizeof(dir));
        _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        /* Every start asks: one faccessat each when there are none. */
        static const char *const subs[] = {VPS_LIVE_IMAGES, VPS_LIVE_PRE};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subs); i++)
                if (faccessat(fd, subs[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        berth_rmtree_at(fd, subs[i], NULL);
}

bool vps_live_images_exist(const struct berth_vps_ctx *v, const char *name)
{
        char path[PATH_MAX];
        berth_vps_path(v, name, VPS_LIVE_IMAGES "/inventory.img", path, sizeof(path));
        return access(path, F_OK) == 0;
}
