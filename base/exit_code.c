/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errno -> the stable exit codes of include/berth/exit_code.h. */
#include <errno.h>

#include "berth/exit_code.h"

enum berth_exit_code berth_exit_code_from_errno(int code)
{
        switch (code < 0 ? -code : code) {
        case 0:
                return BERTH_EXIT_OK;
        case EINVAL:
        case E2BIG:
        case ENAMETOOLONG:
        case ERANGE:
        case ENOTDIR:
        case EISDIR:
        case ELOOP:
                return BERTH_EXIT_INVALID;
        case ENOENT:
        case ENODEV:
                return BERTH_EXIT_NOT_FOUND;
        case EEXIST:
        case EADDRINUSE:
                return BERTH_EXIT_EXISTS;
        case EBUSY:
        case ESRCH:
        case EALREADY:
                return BERTH_EXIT_STATE;
        case ENOMEM:
        case ENOSPC:
        case EDQUOT:
        case EAGAIN:
        case EMFILE:
        case ENFILE:
        case EPERM:
        case EACCES:
        case EIO:
        case EROFS:
        case EFBIG:
        case ENOSYS:
        case EOPNOTSUPP:
        case ENETUNREACH:
        case EHOSTUNREACH:
        case ECONNREFUSED:
        case ETIMEDOUT:
        case ECHILD:  /* an external tool (debootstrap) failed */
        case ELIBBAD: /* the host's busybox is not static */
                return BERTH_EXIT_RESOURCE;
        default:
                return BERTH_EXIT_FAILURE;
        }
}
