/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound cleanup helpers (gcc/clang cleanup attribute).
 *
 * Use one style per function: either these attributes or goto-cleanup.
 * File descriptors start at -EBADF; ownership moves out with TAKE_FD/TAKE_PTR. */
#ifndef BERTH_CLEANUP_H
#define BERTH_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void berth_freep(void *p)
{
        free(*(void **)p);
}

static inline void berth_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
        /* Closed once only: an explicit berth_closep() before the cleanup
         * attribute runs must not close a reused fd number again. */
        *fd = -EBADF;
}

static inline void berth_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void berth_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Frees a NULL-terminated array of strings and the array itself. */
static inline void berth_strv_freep(char ***v)
{
        if (*v) {
                for (char **p = *v; *p; p++)
                        free(*p);
                free(*v);
        }
}

/* Kills (SIGKILL) and reaps a child we own; for error paths after fork. */
void berth_kill_and_reap(pid_t *pid);

#define _cleanup_(f)       __attribute__((cleanup(f)))
#define _cleanup_free_     _cleanup_(berth_freep)
#define _cleanup_close_    _cleanup_(berth_closep)
#define _cleanup_fclose_   _cleanup_(berth_fclosep)
#define _cleanup_closedir_ _cleanup_(berth_closedirp)
#define _cleanup_strv_     _cleanup_(berth_strv_freep)
#define _cleanup_reap_     _cleanup_(berth_kill_and_reap)
/* A jansson json_t *: json_decrefp comes with <jansson.h>, which the user
 * includes (this header does not, so base needs no jansson). */
#define _cleanup_json_ _cleanup_(json_decrefp)

#define TAKE_PTR(p)                                                                                          \
        ({                                                                                                   \
                __typeof__(p) _taken_ = (p);                                                                 \
                (p) = NULL;                                                                                  \
                _taken_;                                                                                     \
        })

#define TAKE_FD(fd)                                                                                          \
        ({                                                                                                   \
                int _taken_ = (fd);                                                                          \
                (fd) = -EBADF;                                                                               \
                _taken_;                                                                                     \
        })

#define TAKE_PID(pid)                                                                                        \
        ({                                                                                                   \
                pid_t _taken_ = (pid);                                                                       \
                (pid) = 0;                                                                                   \
                _taken_;                                                                                     \
        })

#define BERTH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
