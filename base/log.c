/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The warning and trace sink of berth/log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "berth/err.h"
#include "berth/log.h"

static uint64_t monotonic_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void berth_log_enable_debug(struct berth_log *log)
{
        log->debug = true;
        log->start_ns = monotonic_ns();
}

static void log_vemit(const struct berth_log *log, enum berth_log_level level, const char *prefix,
                      const char *fmt, va_list ap)
{
        char msg[BERTH_ERR_MSG_MAX];
        int n = snprintf(msg, sizeof(msg), "%s", prefix);
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
        log->emit(log->data, level, msg);
}

void berth_log_warn(const struct berth_log *log, const char *fmt, ...)
{
        if (!log || !log->emit)
                return;
        va_list ap;
        va_start(ap, fmt);
        log_vemit(log, BERTH_LOG_WARN, "", fmt, ap);
        va_end(ap);
}

void berth_log_debug(const struct berth_log *log, const char *fmt, ...)
{
        if (!log || !log->emit || !log->debug)
                return;
        uint64_t us = (monotonic_ns() - log->start_ns) / 1000u;
        char stamp[32];
        snprintf(stamp, sizeof(stamp), "+%llu.%03llums ", (unsigned long long)(us / 1000u),
                 (unsigned long long)(us % 1000u));
        va_list ap;
        va_start(ap, fmt);
        log_vemit(log, BERTH_LOG_DEBUG, stamp, fmt, ap);
        va_end(ap);
}
