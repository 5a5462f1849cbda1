/* SPDX-License-Identifier: GPL-2.0-or-later */
/* struct berth_err helpers and the kill-and-reap cleanup. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "berth/cleanup.h"
#include "berth/err.h"

/* Marks where a message was cut. */
#define ERR_CUT "..."

static int err_vset(struct berth_err *err, int code, bool with_errno, const char *fmt, va_list ap)
{
        if (code <= 0)
                code = code < 0 ? -code : EIO;
        if (!err)
                return -code;
        err->code = code;
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (!with_errno || n < 0)
                return -code;
        /* The errno text is the cause: when the message fills the buffer,
         * cut the message (marked) rather than drop ": strerror". */
        char suffix[128];
        size_t ls = (size_t)snprintf(suffix, sizeof(suffix), ": %s", strerror(code));
        if (ls >= sizeof(suffix))
                ls = sizeof(suffix) - 1;
        size_t at = (size_t)n;
        if (at + ls >= sizeof(err->msg)) {
                at = sizeof(err->msg) - 1 - ls - strlen(ERR_CUT);
                memcpy(err->msg + at, ERR_CUT, strlen(ERR_CUT));
                at += strlen(ERR_CUT);
        }
        memcpy(err->msg + at, suffix, ls + 1);
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

/* Writes "<prefix>: <old>" into msg (BERTH_ERR_MSG_MAX bytes). When that
 * does not fit, the middle of the context chain goes, marked "...": the
 * outermost context (its start, at most a quarter of the buffer) and the
 * tail of old, which ends in the innermost cause, are kept. The tail starts
 * at a ": " when one is near, so that no word is split:
 * "create container 'x': ...: mount proc: Operation not permitted". */
static void err_join(char *msg, const char *prefix, const char *old)
{
        const size_t cap = BERTH_ERR_MSG_MAX - 1, lcut = strlen(ERR_CUT);
        size_t lp = strlen(prefix), lo = strlen(old);
        char out[BERTH_ERR_MSG_MAX];
        if (lp + 2 + lo <= cap) {
                snprintf(out, sizeof(out), "%s: %s", prefix, old);
                memcpy(msg, out, lp + 2 + lo + 1);
                return;
        }
        size_t head = lp + 2 <= cap / 4 ? lp + 2 : cap / 4;
        memcpy(out, prefix, head <= lp ? head : lp);
        if (head > lp)
                memcpy(out + lp, ": ", 2);
        memcpy(out + head, ERR_CUT, lcut);
        size_t room = cap - head - lcut;
        const char *t = lo > room ? old + lo - room : old;
        const char *sep = strstr(t, ": ");
        if (t > old && sep && (size_t)(sep - t) < room / 4)
                t = sep;
        while (
            !strncmp(t, ": " ERR_CUT ": ", 2 + strlen(ERR_CUT) + 2)) /* an earlier cut: one mark is enough */
                t += 2 + strlen(ERR_CUT);
        size_t lt = strlen(t);
        memcpy(out + head + lcut, t, lt + 1);
        memcpy(msg, out, head + lcut + lt + 1);
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
        old[sizeof(old) - 1] = '\0';
        err_join(err->msg, prefix, old);
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
