/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk and I/O limits as vps.json and OCI resources see them (no root):
 * runtime/vps/disk_limits.c and the blockIO of the VPS's config. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "berth/spec.h"
#include "berth/vps.h"

static const char sample[] =
    "{\"name\": \"web1\", \"template\": \"bb\", \"hostname\": \"web1\","
    " \"limits\": {\"disk\": 1073741824, \"inodes\": 65536, \"io_read_bps\": 104857600,"
    " \"io_write_bps\": 52428800, \"io_write_iops\": 2000},"
    " \"disk\": {\"backend\": \"project\", \"project_id\": 1073807360},"
    " \"net\": {\"mode\": \"routed\", \"host_if\": \"bth01234567\", \"addresses\": []}}";

START_TEST(test_disk_round_trip)
{
        struct berth_vps_config cfg, again;
        struct berth_err err = {0};
        ck_assert_msg(berth_vps_config_parse(sample, strlen(sample), &cfg, &err) == 0, "%s", err.msg);
        ck_assert(cfg.limits.has_disk && cfg.limits.disk == 1073741824);
        ck_assert(cfg.limits.has_inodes && cfg.limits.inodes == 65536);
        ck_assert(cfg.limits.has_io_rbps && cfg.limits.io_rbps == 104857600);
        ck_assert(cfg.limits.has_io_wbps && cfg.limits.io_wbps == 52428800);
        ck_assert(!cfg.limits.has_io_riops);
        ck_assert(cfg.limits.has_io_wiops && cfg.limits.io_wiops == 2000);
        ck_assert_int_eq(cfg.disk.backend, BERTH_VPS_DISK_PROJECT);
        ck_assert_uint_eq(cfg.disk.project_id, 1073807360u);
        char *text = berth_vps_config_format(&cfg);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(berth_vps_config_parse(text, strlen(text), &again, &err) == 0, "%s", err.msg);
        ck_assert(again.limits.has_disk && again.limits.disk == cfg.limits.disk);
        ck_assert(again.limits.has_io_wiops && again.limits.io_wiops == 2000);
        ck_assert(!again.limits.has_io_riops);
        ck_assert_int_eq(again.disk.backend, BERTH_VPS_DISK_PROJECT);
        ck_assert_uint_eq(again.disk.project_id, cfg.disk.project_id);
        ck_assert_str_eq(berth_vps_disk_backend_name(again.disk.backend), "project");
        free(text);
        berth_vps_config_clear(&again);
        berth_vps_config_clear(&cfg);
}
END_TEST

START_TEST(test_disk_invalid)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        static const char *const bad[] = {
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"zfs\"},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
            /* a project without its id */
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"project\"},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"limits\":{\"disk\":-1},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_int_eq(berth_vps_config_parse(bad[i], strlen(bad[i]), &cfg, &err), -EINVAL);
                ck_assert_ptr_nonnull(strstr(err.msg, "disk"));
        }
}
END_TEST

/* The I/O limits become the four throttles on the disk's device; unset
 * ones are rate 0 ("no limit"), so the container joins blkio either way. */
START_TEST(test_io_resources)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        ck_assert_int_eq(berth_vps_config_parse(sample, strlen(sample), &cfg, &err), 0);
        struct berth_resources *r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        for (int k = 0; k < 4; k++)
                ck_assert_uint_eq(r->blkio.n_throttle[k], 0); /* no device known: none */
        berth_resources_free(r);

        cfg.limits.io_major = 7;
        cfg.limits.io_minor = 3;
        r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        const uint64_t want[4] = {104857600, 52428800, 0, 2000}; /* rbps, wbps, riops, wiops */
        for (int k = 0; k < 4; k++) {
                ck_assert_uint_eq(r->blkio.n_throttle[k], 1);
                ck_assert_int_eq(r->blkio.throttle[k][0].major, 7);
                ck_assert_int_eq(r->blkio.throttle[k][0].minor, 3);
                ck_assert_uint_eq(r->blkio.throttle[k][0].rate, want[k]);
        }
        berth_resources_free(r);

        /* No I/O limit: no blockIO (the VPS stays out of blkio). */
        cfg.limits.has_io_rbps = cfg.limits.has_io_wbps = cfg.limits.has_io_wiops = false;
        r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        for (int k = 0; k < 4; k++)
                ck_assert_uint_eq(r->blkio.n_throttle[k], 0);
        berth_resources_free(r);
        berth_vps_config_clear(&cfg);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps_disk");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_disk_round_trip);
        tcase_add_test(tc, test_disk_invalid);
        tcase_add_test(tc, test_io_resources);
        suite_add_tcase(s, tc);
        return s;
}
