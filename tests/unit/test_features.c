/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/features.c: the document parses, carries the keys
 * of runtime-spec features.md, and every claim agrees with the probes and
 * the parsers it stands for. */
#include <errno.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/process.h"
#include "berth/cgroup.h"
#include "berth/checkpoint.h"
#include "berth/features.h"
#include "berth/seccomp.h"
#include "berth/spec.h"

static json_t *doc;

static void load_doc(void)
{
        struct berth_err err = {0};
        char *text = berth_features_json(&err);
        ck_assert_msg(text, "features: %s", err.msg);
        json_error_t jerr;
        doc = json_loads(text, 0, &jerr);
        free(text);
        ck_assert_msg(doc, "features JSON does not parse: %s", jerr.text);
}

static void free_doc(void)
{
        json_decref(doc);
        doc = NULL;
}

static json_t *get(const char *a, const char *b, const char *c)
{
        json_t *v = json_object_get(doc, a);
        if (v && b)
                v = json_object_get(v, b);
        if (v && c)
                v = json_object_get(v, c);
        return v;
}

static bool array_has(json_t *a, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
                if (json_is_string(v) && !strcmp(json_string_value(v), s))
                        return true;
        }
        return false;
}

static bool is_false(json_t *v)
{
        return json_is_false(v);
}

START_TEST(top_level_keys)
{
        ck_assert_str_eq(json_string_value(get("ociVersionMin", NULL, NULL)), "1.0.0");
        ck_assert_str_eq(json_string_value(get("ociVersionMax", NULL, NULL)), BERTH_FEATURES_OCI_MAX);
        static const char *hooks[] = {"prestart",       "createRuntime", "createContainer",
                                      "startContainer", "poststart",     "poststop"};
        json_t *h = get("hooks", NULL, NULL);
        ck_assert_int_eq(json_array_size(h), 6);
        for (size_t i = 0; i < 6; i++)
                ck_assert_msg(array_has(h, hooks[i]), "hook %s missing", hooks[i]);
        ck_assert(json_array_size(get("mountOptions", NULL, NULL)) > 10);
        /* What the host has: berth applies the profile and labels there. */
        ck_assert(json_is_true(get("linux", "apparmor", "enabled")) == berth_lsm_apparmor_enabled());
        ck_assert(json_is_true(get("linux", "selinux", "enabled")) == berth_lsm_selinux_enabled());
        ck_assert(is_false(get("linux", "intelRdt", "enabled")));
        /* idmapped mounts are claimed exactly when the kernel has mount_setattr. */
        bool have = syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno != ENOSYS;
        json_t *idmap = json_object_get(get("linux", "mountExtensions", "idmap"), "enabled");
        ck_assert(json_is_boolean(idmap) && json_is_true(idmap) == have);
        ck_assert_str_eq(json_string_value(get("annotations", "run.oci.berth.version", NULL)), BERTH_VERSION);
}
END_TEST

START_TEST(namespaces_exist)
{
        static const struct {
                const char *oci, *proc;
        } ns[] = {{"cgroup", "cgroup"}, {"ipc", "ipc"},   {"mount", "mnt"}, {"network", "net"},
                  {"pid", "pid"},       {"time", "time"}, {"user", "user"}, {"uts", "uts"}};
        json_t *a = get("linux", "namespaces", NULL);
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/self/ns/%s", ns[i].proc);
                ck_assert_msg(array_has(a, ns[i].oci) == (access(p, F_OK) == 0), "namespace %s", ns[i].oci);
        }
}
END_TEST

START_TEST(capabilities_are_the_kernels)
{
        json_t *a = get("linux", "capabilities", NULL);
        ck_assert_int_eq(json_array_size(a), cap_max_bits());
        ck_assert(array_has(a, "CAP_CHOWN"));
        ck_assert(array_has(a, "CAP_SYS_ADMIN"));
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
                cap_value_t c;
                ck_assert_int_eq(cap_from_name(json_string_value(v), &c), 0);
                ck_assert_int_eq(c, (cap_value_t)i);
        }
}
END_TEST

START_TEST(cgroup_matches_module)
{
        struct berth_cgroup_features f;
        struct berth_err err = {0};
        ck_assert_int_eq(berth_cgroup_features(&f, &err), 0);
        ck_assert(json_boolean_value(get("linux", "cgroup", "v1")) == f.v1);
        ck_assert(json_boolean_value(get("linux", "cgroup", "v2")) == f.v2);
        ck_assert(json_boolean_value(get("linux", "cgroup", "systemd")) == f.systemd);
        ck_assert(json_boolean_value(get("linux", "cgroup", "systemdUser")) == f.systemd_user);
        ck_assert(json_boolean_value(get("linux", "cgroup", "rdma")) == f.rdma);
}
END_TEST

START_TEST(seccomp_matches_probes)
{
        ck_assert(json_is_true(get("linux", "seccomp", "enabled")));
        json_t *acts = get("linux", "seccomp", "actions");
        const char *const *names = berth_seccomp_known_actions(); /* indexed by the enum */
        ck_assert_str_eq(names[BERTH_SCMP_ACT_NOTIFY], "SCMP_ACT_NOTIFY");
        for (size_t i = 0; names[i]; i++)
                ck_assert_msg(array_has(acts, names[i]) ==
                                  berth_seccomp_action_supported((enum berth_seccomp_action)i),
                              "action %s", names[i]);
        json_t *ops = get("linux", "seccomp", "operators");
        for (const char *const *o = berth_seccomp_known_operators(); *o; o++)
                ck_assert(array_has(ops, *o));
        json_t *archs = get("linux", "seccomp", "archs");
        ck_assert(array_has(archs, "SCMP_ARCH_X86_64") || array_has(archs, "SCMP_ARCH_AARCH64"));
        for (const char *const *a = berth_seccomp_known_archs(); *a; a++)
                ck_assert_msg(array_has(archs, *a) == berth_seccomp_arch_supported(*a), "arch %s", *a);
        json_t *known = get("linux", "seccomp", "knownFlags");
        for (const char *const *f = berth_seccomp_known_flags(); *f; f++)
                ck_assert(array_has(known, *f));
        unsigned flags[] = {BERTH_SCMP_FLAG_LOG, BERTH_SCMP_FLAG_SPEC_ALLOW,
                            BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV};
        json_t *sup = get("linux", "seccomp", "supportedFlags");
        for (size_t i = 0; i < 3; i++)
                ck_assert_msg(array_has(sup, berth_seccomp_flag_name(flags[i])) ==
                                  berth_seccomp_flag_supported(flags[i]),
                              "flag %s", berth_seccomp_flag_name(flags[i]));
}
END_TEST

START_TEST(checkpoint_annotation_matches_criu)
{
        char criu[4096];
        struct berth_err err = {0};
        bool works = berth_criu_find(NULL, criu, sizeof(criu)) && berth_criu_check(criu, &err) == 0;
        const char *want = works ? "true" : "false";
        ck_assert_str_eq(
            json_string_value(get("annotations", "org.opencontainers.runc.checkpoint.enabled", NULL)), want);
}
END_TEST

/* Each claimed option must be one the spec parser consumes itself (a flag,
 * propagation or bind), not one it passes through as filesystem data. */
START_TEST(mount_options_parse)
{
        json_t *opts = get("mountOptions", NULL, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(opts, i, v)
        {
                char cfg[512];
                snprintf(
                    cfg, sizeof(cfg),
                    "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"},\"mounts\":[{\"destination\":"
                    "\"/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"%s\"]}]}",
                    json_string_value(v));
                struct berth_err err = {0};
                struct berth_spec *s = berth_spec_parse(cfg, strlen(cfg), &err);
                ck_assert_msg(s, "option %s: %s", json_string_value(v), err.msg);
                ck_assert_int_eq(s->n_mounts, 1);
                ck_assert_msg(!s->mounts[0].data, "option %s is passed on as data", json_string_value(v));
                /* idmap/ridmap are claimed: the parser must map them. */
                const char *name = json_string_value(v);
                ck_assert(s->mounts[0].idmap == !strcmp(name, "idmap"));
                ck_assert(s->mounts[0].ridmap == !strcmp(name, "ridmap"));
                berth_spec_free(s);
        }
        ck_assert(array_has(opts, "idmap") && array_has(opts, "ridmap"));
        ck_assert(array_has(opts, "rro") && array_has(opts, "rnosuid"));
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("features");
        TCase *tc = tcase_create("document");
        tcase_add_checked_fixture(tc, load_doc, free_doc);
        tcase_add_test(tc, top_level_keys);
        tcase_add_test(tc, namespaces_exist);
        tcase_add_test(tc, capabilities_are_the_kernels);
        tcase_add_test(tc, cgroup_matches_module);
        tcase_add_test(tc, seccomp_matches_probes);
        tcase_add_test(tc, checkpoint_annotation_matches_criu);
        tcase_add_test(tc, mount_options_parse);
        suite_add_tcase(s, tc);
        return s;
}
