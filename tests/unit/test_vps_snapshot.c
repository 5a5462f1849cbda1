// SPDX-License-Identifier: GPL-2.0-or-later
/* Snapshot names and the record of a VPS's snapshots as snapshot-list and
 * status read it (no root): runtime/vps/snapshot_store.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/rmtree.h"
#include "berth/vps.h"
#include "berth/vps_snapshot.h"

START_TEST(test_names)
{
        static const char *const good[] = {"a", "s1", "before-upgrade", "2026-12-06T17.00", "A_b.c-d", NULL};
        static const char *const bad[] = {"",   "-a",  ".a",  "_a",       "a/b", "a b",
                                          "..", "a:b", "a\n", "\xc3\xa9", NULL};
        for (size_t i = 0; good[i]; i++)
                ck_assert_msg(berth_vps_snap_name_valid(good[i]), "%s", good[i]);
        for (size_t i = 0; bad[i]; i++)
                ck_assert_msg(!berth_vps_snap_name_valid(bad[i]), "%s", bad[i]);
        char longest[BERTH_VPS_SNAP_NAME_MAX + 2];
        memset(longest, 'x', sizeof(longest));
        longest[BERTH_VPS_SNAP_NAME_MAX] = 0;
        ck_assert(berth_vps_snap_name_valid(longest));
        longest[BERTH_VPS_SNAP_NAME_MAX] = 'x';
        longest[BERTH_VPS_SNAP_NAME_MAX + 1] = 0;
        ck_assert(!berth_vps_snap_name_valid(longest));
        ck_assert(!berth_vps_snap_name_valid(NULL));
}
END_TEST

static void put(const char *dir, const char *file, const char *text)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

/* A data directory with VPS web1 (its vps.json is not read by list). */
static char *data_dir(char *vps, size_t len)
{
        char tmpl[] = "/tmp/berth-unit-snap.XXXXXX";
        char *d = mkdtemp(tmpl);
        ck_assert_ptr_nonnull(d);
        snprintf(vps, len, "%s/vps/web1", d);
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/vps", d);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        ck_assert_int_eq(mkdir(vps, 0700), 0);
        put(vps, "vps.json", "{}");
        return strdup(d);
}

static void rm_data(char *d)
{
        struct berth_err e = {0};
        berth_rmtree_at(AT_FDCWD, d, &e);
        free(d);
}

START_TEST(test_list)
{
        char vps[4096];
        char *d = data_dir(vps, sizeof(vps));
        struct berth_vps_ctx v = {.data_dir = d};
        struct berth_vps_snapshot_info *a = NULL;
        size_t n = 9, depth = 9;
        struct berth_err err = {0};

        /* No record yet: none, and no layers. */
        ck_assert_msg(berth_vps_snapshot_list(&v, "web1", &a, &n, &depth, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(depth, 0);
        free(a);

        put(vps, "snapshots.json",
            "{\"next\": 4, \"lowers\": [3, 1], \"rotate\": false, \"snapshots\": ["
            "{\"name\": \"s1\", \"created\": \"2026-12-06T17:00:00Z\", \"live\": false, \"layers\": [1]},"
            "{\"name\": \"s2\", \"created\": \"2026-12-06T17:01:00Z\", \"live\": true, \"layers\": [2, "
            "1]}]}");
        ck_assert_msg(berth_vps_snapshot_list(&v, "web1", &a, &n, &depth, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(depth, 2);
        ck_assert_str_eq(a[0].name, "s1");
        ck_assert_uint_eq(a[0].layers, 1);
        ck_assert(!a[0].live);
        ck_assert_str_eq(a[1].name, "s2");
        ck_assert_str_eq(a[1].created, "2026-12-06T17:01:00Z");
        ck_assert_uint_eq(a[1].layers, 2);
        ck_assert(a[1].live);
        free(a);
        ck_assert_uint_eq(berth_vps_snapshot_count(&v, "web1"), 2);

        /* Damaged: an error naming the file, and a count of 0. */
        static const char *const damaged[] = {
            "{\"next\": 4",
            "[]",
            "{\"next\": 4, \"lowers\": [0], \"snapshots\": []}",
            "{\"next\": 4, \"lowers\": [], \"snapshots\": [{\"name\": \"a/b\", \"layers\": [1]}]}",
            "{\"next\": 4, \"lowers\": [], \"snapshots\": [{\"name\": \"s\", \"layers\": \"1\"}]}",
            NULL};
        for (size_t i = 0; damaged[i]; i++) {
                put(vps, "snapshots.json", damaged[i]);
                berth_err_clear(&err);
                ck_assert_int_eq(berth_vps_snapshot_list(&v, "web1", &a, &n, NULL, &err), -EUCLEAN);
                ck_assert_msg(strstr(err.msg, "snapshots.json"), "%s", err.msg);
                ck_assert_uint_eq(berth_vps_snapshot_count(&v, "web1"), 0);
        }

        /* No such VPS, a bad name. */
        ck_assert_int_eq(berth_vps_snapshot_list(&v, "nosuch", &a, &n, NULL, &err), -ENOENT);
        ck_assert_int_eq(berth_vps_snapshot_list(&v, "../x", &a, &n, NULL, &err), -EINVAL);
        rm_data(d);
}
END_TEST

START_TEST(test_bad_names_refused)
{
        struct berth_vps_ctx v = {.data_dir = "/nonexistent"};
        struct berth_err err = {0};
        ck_assert_int_eq(berth_vps_snapshot_create(&v, "web1", "a/b", &err), -EINVAL);
        ck_assert_msg(strstr(err.msg, "invalid snapshot name"), "%s", err.msg);
        ck_assert_int_eq(berth_vps_snapshot_delete(&v, "web1", "", &err), -EINVAL);
        ck_assert_int_eq(berth_vps_snapshot_restore(&v, "Web1", "s1", false, 0, &err), -EINVAL);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps_snapshot");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_list);
        tcase_add_test(tc, test_bad_names_refused);
        suite_add_tcase(s, tc);
        return s;
}
