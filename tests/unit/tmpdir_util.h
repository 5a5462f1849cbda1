/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A directory of its own under /tmp for each test (unchecked fixtures:
 * they run around each test case, so the directory goes even when an
 * assertion ends the test early), and file helpers relative to it. */
#ifndef BERTH_TEST_TMPDIR_UTIL_H
#define BERTH_TEST_TMPDIR_UTIL_H

#include <stdbool.h>
#include <stddef.h>

extern char dir[64]; /* this test's directory */

void tmpdir_setup(void);
void tmpdir_teardown(void);

void pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A file rel with text; a directory rel; does rel exist (lstat)? */
void put(const char *rel, const char *text);
void mkd(const char *rel);
bool exists(const char *rel);
/* An O_DIRECTORY fd of the test's directory (asserts). */
int open_dir(void);

#endif
