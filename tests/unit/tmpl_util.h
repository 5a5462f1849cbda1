/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the template tests: unit (tests/unit/test_template.c)
 * and component (tests/component/test_template.c). Every test works in its
 * own data directory under /tmp, made and removed by the fixtures. */
#ifndef BERTH_TESTS_TMPL_UTIL_H
#define BERTH_TESTS_TMPL_UTIL_H

#include <archive.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "check_main.h"

extern char data[256]; /* test-only state: this test's data directory */

/* Unchecked fixtures: mkdtemp /tmp/berth-tmpl-test-XXXXXX into data, and
 * remove it again. */
void tmpl_setup(void);
void tmpl_teardown(void);

/* snprintf that fails the test when the result does not fit. */
void pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether rel exists in template name's rootfs. */
bool exists_in(const char *name, const char *rel);
/* rel of template name's rootfs, malloc'd, or NULL. */
char *slurp(const char *name, const char *rel);
/* Entries of data/templates (hidden_only: only .tmp-* and .rm-* ones). */
int count_entries(bool hidden_only);
/* The parsed template.json of template name. */
json_t *metadata(const char *name);

/* One archive entry of the tarballs the tests build. */
struct tent {
        const char *path;
        char type; /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
        int mode;
        const char *data; /* file content, or link target */
        int uid;
};

void add_entry(struct archive *a, const struct tent *t);
/* A tar in memory (filter: ARCHIVE_FILTER_NONE/GZIP/ZSTD). */
char *make_tar(int filter, const struct tent *ents, size_t n, size_t *len);
void write_file(const char *path, const void *buf, size_t len);

#endif
