/* struct berth_err helpers and the kill-and-reap cleanup. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "berth/cleanup.h"
#include "berth/err.h"

static int err_vset(struct berth_err *err, int code, bool with_errno, const char *fmt, va_list ap)
{
        if (code <= 0)
                code = code < 0 ? -code : EIO;
        if (!err)
                return -code;
        err->code = code;
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
        return -code;
}

int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = err_vset(err, code, false, fmt, ap);
        va_end(ap);
        return r;
}

int berth_err_sys(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = err_vset(err, code, true, fmt, ap);
        va_end(ap);
        return r;
}

int berth_err_wrap(struct berth_err *err, const char *fmt, ...)
{
        if (!err)
                return -EIO;
        if (err->code <= 0)
                err->code = EIO;
        char prefix[BERTH_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        char old[BERTH_ERR_MSG_MAX];
        memcpy(old, err->msg, sizeof(old));
        snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
        return -err->code;
}

void berth_err_clear(struct berth_err *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = '\0';
        }
}

void berth_kill_and_reap(pid_t *pid)
{
        if (*pid <= 0)
                return;
        int saved = errno;
        kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
        errno = saved;
}
