// SPDX-License-Identifier: GPL-2.0-or-later
/* process.apparmorProfile, process.selinuxLabel, linux.mountLabel: where
 * the host lacks the LSM, create fails naming the field and leaves nothing
 * (runc errors too); silently running unconfined is not an option. */
#include "harness.h"

#include <string.h>
#include <unistd.h>

static void expect_refused(const char *name, const char *path, const char *value, const char *field,
                           const char *lsm_file)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);

        itest_set(cfg, path, json_string(value));
        itest_bundle_new(&b, name, cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        if (access(lsm_file, F_OK) == 0) { /* the LSM is there: applied */
                itest_rt(&r, "delete", "--force", b.id, NULL);
                return;
        }
        ck_assert_msg(r.status != 0, "%s was ignored on a host without its LSM", field);
        ck_assert_msg(strstr(r.err, field) && strstr(r.err, "not enabled on this host"),
                      "unexpected error: %s", r.err);
        itest_assert_clean(b.id, b.dir);
}

START_TEST(lsm_fields_refused_without_lsm)
{
        expect_refused("aa", "process.apparmorProfile", "berth-itest", "process.apparmorProfile",
                       "/sys/kernel/security/apparmor");
        expect_refused("se", "process.selinuxLabel", "system_u:system_r:container_t:s0",
                       "process.selinuxLabel", "/sys/fs/selinux/enforce");
        expect_refused("ml", "linux.mountLabel", "system_u:object_r:container_file_t:s0", "linux.mountLabel",
                       "/sys/fs/selinux/enforce");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/lsm");
        itest_add(s, "lsm_fields_refused_without_lsm", lsm_fields_refused_without_lsm);
        return s;
}
