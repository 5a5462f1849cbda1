/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the template tests (tests/unit/test_template.c and
 * tests/component/test_template.c): see tmpl_util.h. */
#include "tmpl_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/rmtree.h"
#include "runtime/vps/template/internal.h"
#include <archive_entry.h>

char data[256]; /* test-only state: this test's data directory */

/* Unchecked fixtures: they run in the runner process around each test
 * case (one test per case here), so the directory goes away even when an
 * assertion ends the test's process early. */
void tmpl_setup(void)
{
        snprintf(data, sizeof(data), "/tmp/berth-tmpl-test-XXXXXX");
        if (!mkdtemp(data)) {
                perror("mkdtemp");
                exit(1);
        }
}

void tmpl_teardown(void)
{
        _cleanup_close_ int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (berth_rmtree_at(fd, data + 5, NULL) < 0)
                fprintf(stderr, "cannot remove %s\n", data);
}

void pathf(char *buf, size_t len, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, len, fmt, ap);
        va_end(ap);
        ck_assert_int_lt(n, (int)len);
}

bool exists_in(const char *name, const char *rel)
{
        char p[1024];
        struct stat st;
        pathf(p, sizeof(p), "%s/templates/%s/rootfs/%s", data, name, rel);
        return lstat(p, &st) == 0;
}

char *slurp(const char *name, const char *rel)
{
        char p[1024];
        pathf(p, sizeof(p), "%s/templates/%s/rootfs/%s", data, name, rel);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        char *buf = NULL;
        if (fd < 0 || berth_read_fd(fd, 1 << 20, &buf, NULL) < 0)
                return NULL;
        return buf;
}

/* Nothing but finished templates: no .tmp-* or .rm-* directory. */
int count_entries(bool hidden_only)
{
        char p[512];
        pathf(p, sizeof(p), "%s/templates", data);
        DIR *d = opendir(p);
        if (!d)
                return 0;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    (!hidden_only || de->d_name[0] == '.'))
                        n++;
        closedir(d);
        return n;
}

json_t *metadata(const char *name)
{
        char p[512];
        pathf(p, sizeof(p), "%s/templates/%s/template.json", data, name);
        json_t *j = json_load_file(p, 0, NULL);
        ck_assert_msg(j != NULL, "%s does not parse", p);
        return j;
}

void add_entry(struct archive *a, const struct tent *t)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, t->path);
        archive_entry_set_uid(e, t->uid);
        archive_entry_set_gid(e, t->uid);
        archive_entry_set_mtime(e, 1600000000, 0);
        archive_entry_set_perm(e, t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644));
        size_t len = t->type == 'f' && t->data ? strlen(t->data) : 0;
        archive_entry_set_filetype(e, t->type == 'd' ? AE_IFDIR : t->type == 'l' ? AE_IFLNK : AE_IFREG);
        if (t->type == 'l')
                archive_entry_set_symlink(e, t->data);
        if (t->type == 'h')
                archive_entry_set_hardlink(e, t->data);
        archive_entry_set_size(e, (la_int64_t)len);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        if (len)
                ck_assert_int_eq(archive_write_data(a, t->data, len), (la_ssize_t)len);
        archive_entry_free(e);
}

/* A tar in memory (filter: ARCHIVE_FILTER_NONE/GZIP/ZSTD). */
char *make_tar(int filter, const struct tent *ents, size_t n, size_t *len)
{
        size_t cap = 1 << 20;
        char *buf = malloc(cap);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        ck_assert_int_eq(archive_write_add_filter(a, filter), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++)
                add_entry(a, &ents[i]);
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return buf;
}

void write_file(const char *path, const void *buf, size_t len)
{
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
        fclose(f);
}
