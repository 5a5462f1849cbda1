/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Warnings and the debug trace: library code never prints, it hands each
 * line to the caller's sink (the CLI writes it to stderr and the --log file
 * in text or runc's JSON lines).
 *
 * berth_debug() costs one branch when tracing is off: the arguments are not
 * evaluated and nothing is formatted. Each trace line carries the time since
 * the log was started, so a trace shows where a verb spends its time. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum berth_log_level {
        BERTH_LOG_WARN,
        BERTH_LOG_DEBUG,
};

typedef void (*berth_log_fn)(void *data, enum berth_log_level level, const char *msg);

struct berth_log {
        berth_log_fn emit; /* NULL: drop everything */
        void *data;
        bool debug;        /* trace the steps (--debug, BERTH_DEBUG=1) */
        uint64_t start_ns; /* CLOCK_MONOTONIC when tracing started */
};

/* Turns the trace on and starts its clock. */
void berth_log_enable_debug(struct berth_log *log);

void berth_log_warn(const struct berth_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Use berth_debug(); this is its slow path. Prefixes "+<ms>ms ". */
void berth_log_debug(const struct berth_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define berth_debug(log, ...)                                                                                \
        do {                                                                                                 \
                const struct berth_log *berth_debug_log_ = (log);                                            \
                if (__builtin_expect(berth_debug_log_ != NULL && berth_debug_log_->debug, 0))                \
                        berth_log_debug(berth_debug_log_, __VA_ARGS__);                                      \
        } while (0)

#endif
