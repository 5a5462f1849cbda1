/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dlopen() of libarchive for the template code (see archive_dl.h). */
#ifdef BERTH_HAVE_LIBARCHIVE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "runtime/vps/template/archive_dl.h"

/* Process-wide by nature: a dlopen()ed library is loaded once per process.
 * Written once, before first use, then only read. */
static struct archive_api api;
static bool loaded;

static int resolve(void *lib, const char *name, void **slot, struct berth_err *err)
{
        *slot = dlsym(lib, name);
        return *slot ? 0 : berth_err_set(err, ELIBBAD, "libarchive: missing symbol %s", name);
}

int archive_load(struct berth_err *err)
{
        if (loaded)
                return 0;
        void *lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return berth_err_set(err, ELIBACC, "cannot load libarchive.so.13 (install libarchive13): %s",
                                     dlerror());
        struct archive_api a;
#define BERTH_ARCHIVE_RESOLVE(name)                                                                          \
        if (resolve(lib, #name, (void **)&a.name, err) < 0) {                                                \
                dlclose(lib);                                                                                \
                return -err->code;                                                                           \
        }
        BERTH_ARCHIVE_FUNCS(BERTH_ARCHIVE_RESOLVE)
#undef BERTH_ARCHIVE_RESOLVE
        api = a;
        loaded = true;
        return 0;
}

const struct archive_api *archive_api_get(void)
{
        return &api;
}
#endif
