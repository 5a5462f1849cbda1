/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one Check main of every test executable (unit, component,
 * integration, security): tests/check_main.c.
 *
 * A test file defines test_suite() and no main(). The main runs the suite
 * with everything Check reads from the environment (CK_FORK, CK_RUN_CASE,
 * CK_RUN_SUITE, CK_INCLUDE_TAGS, CK_DEFAULT_TIMEOUT, CK_LOG_FILE_NAME, ...),
 * prints each failure in Check's own format, each skipped test with its
 * reason, and a summary line. Exit status: 1 when a test failed (or none
 * ran), 77 when every test was skipped (ctest's SKIP_RETURN_CODE: shown as
 * "Skipped"), else 0 -- also when some were skipped: ctest has no partial
 * skip, so the skipped ones are listed by name in the output.
 *
 * Skipping: Check 0.15 has no skip of its own. SKIP_IF ends the test
 * through Check's failure path (exit of the forked test process, or the
 * longjmp of CK_FORK=no) with a message carrying a marker; the main counts
 * such a result as skipped, never as passed and never as failed. It works
 * in a test, in a checked fixture (runs per test) and in an unchecked
 * fixture (runs once per TCase in the runner: the TCase's tests do not run
 * and the TCase counts as one skip). */
#ifndef BERTH_TESTS_CHECK_MAIN_H
#define BERTH_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdbool.h>

/* Defined by each test executable: the suite the main runs. */
Suite *test_suite(void);

/* Ends the current test as skipped when cond holds; the reason is a printf
 * format. Use it for what the environment lacks (a tool, a kernel feature,
 * root in a component test), never for a feature that is broken. */
#define SKIP_IF(cond, ...)                                                                                   \
        do {                                                                                                 \
                if (cond)                                                                                    \
                        check_skip_(__FILE__, __LINE__, __VA_ARGS__);                                        \
        } while (0)

/* The prefix of a skip's Check message (exposed for the main). */
#define CHECK_SKIP_MARK "[skip] "

void check_skip_(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* Runs fn in the runner process after the suite has run (at most 8):
 * cleanup of what the tests' parent made, e.g. a cgroup parent. */
void check_main_at_end(void (*fn)(void));

/* For suites whose tests must each run in a process of their own (they
 * unshare namespaces): forks even under CK_FORK=no. */
void check_main_force_fork(void);

#endif
