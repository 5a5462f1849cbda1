// SPDX-License-Identifier: GPL-2.0-or-later
/* libsystemd, loaded when the systemd driver is first used (sdbus.h says
 * why). Process-wide by nature, like netns/nft.c's libnftables: written
 * once, before first use, then only read. */
#define SDBUS_DL_IMPL
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "cgroups/systemd/sdbus.h"

struct sdbus_api sdbus_api;

int sdbus_load(struct berth_err *err)
{
        if (sdbus_api.sd_bus_wait)
                return 0;
        void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return berth_err_set(err, ENOTSUP,
                                     "--systemd-cgroup: cannot load libsystemd.so.0 (install "
                                     "libsystemd0): %s",
                                     dlerror());
        struct sdbus_api api;
#define SDBUS_RESOLVE(f)                                                                                     \
        {                                                                                                    \
                void *p = dlsym(lib, #f);                                                                    \
                if (!p) {                                                                                    \
                        dlclose(lib);                                                                        \
                        return berth_err_set(err, ELIBBAD, "libsystemd.so.0: no symbol %s", #f);             \
                }                                                                                            \
                /* POSIX lets a function pointer round-trip through void *. */                               \
                memcpy(&api.f, &p, sizeof(p));                                                               \
        }
        SDBUS_FUNCTIONS(SDBUS_RESOLVE)
#undef SDBUS_RESOLVE
        sdbus_api = api;
        return 0;
}
