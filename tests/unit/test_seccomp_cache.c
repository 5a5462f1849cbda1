/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/seccomp_cache.c: the compiled-program cache under
 * the state root. A temporary directory stands in for the state root; the
 * programs are compared instruction by instruction with a fresh compile,
 * and one is loaded in a forked child (no_new_privs) to see it filter. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/seccomp.h"
#include "berth/spec.h"
#include "runtime/seccomp/cache.h"

static char root[64];
static int root_fd = -1;

static void setup(void)
{
        strcpy(root, "/tmp/berth-scache-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
        char cmd[128];
        close(root_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static struct berth_spec *default_spec(void)
{
        struct berth_err err = {0};
        char *text = berth_spec_default_json(false, &err);
        ck_assert_msg(text != NULL, "%s", err.msg);
        struct berth_spec *spec = berth_spec_parse(text, strlen(text), &err);
        ck_assert_msg(spec != NULL && spec->has_seccomp, "%s", err.msg);
        free(text);
        return spec;
}

static char *names_uname[] = {"uname", NULL};
static char *names_ab_c[] = {"ab", "c", NULL};
static char *names_a_bc[] = {"a", "bc", NULL};

/* Default allow; uname fails with errno e. */
static struct berth_seccomp small_profile(struct berth_seccomp_rule *r, unsigned e)
{
        *r = (struct berth_seccomp_rule){.names = names_uname,
                                         .n_names = 1,
                                         .action = BERTH_SCMP_ACT_ERRNO,
                                         .has_errno_ret = true,
                                         .errno_ret = e};
        return (struct berth_seccomp){.default_action = BERTH_SCMP_ACT_ALLOW, .rules = r, .n_rules = 1};
}

static void assert_same_program(const struct berth_seccomp_filter *a, const struct berth_seccomp_filter *b)
{
        size_t na = 0, nb = 0;
        const struct sock_filter *pa = berth_seccomp_filter_insns(a, &na);
        const struct sock_filter *pb = berth_seccomp_filter_insns(b, &nb);
        ck_assert_uint_gt(na, 0);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(pa, pb, na * sizeof(*pa)), 0);
        ck_assert_uint_eq(berth_seccomp_filter_flags(a), berth_seccomp_filter_flags(b));
        ck_assert_int_eq(berth_seccomp_filter_has_notify(a), berth_seccomp_filter_has_notify(b));
}

static struct berth_seccomp_filter *cached(const struct berth_seccomp *s, bool *hit)
{
        struct berth_err err = {0};
        struct berth_seccomp_filter *f = seccomp_cached_compile(root_fd, s, hit, &err);
        ck_assert_msg(f != NULL, "%s", err.msg);
        return f;
}

static void cache_path(const struct berth_seccomp *s, char *path, size_t size)
{
        unsigned char *key = NULL;
        size_t len = 0;
        char name[32];
        struct berth_err err = {0};
        ck_assert_int_eq(seccomp_cache_key(s, &key, &len, &err), 0);
        seccomp_cache_name(key, len, name);
        free(key);
        snprintf(path, size, "%s/%s/%s", root, BERTH_SECCOMP_CACHE_DIR, name);
}

START_TEST(miss_then_hit)
{
        struct berth_spec *spec = default_spec();
        struct berth_err err = {0};
        bool hit = true;
        struct berth_seccomp_filter *first = cached(&spec->seccomp, &hit);
        ck_assert(!hit);
        char path[256];
        cache_path(&spec->seccomp, path, sizeof(path));
        struct stat st;
        ck_assert_msg(stat(path, &st) == 0 && S_ISREG(st.st_mode), "no cache file %s", path);
        ck_assert_uint_eq(st.st_mode & 077, 0);

        struct berth_seccomp_filter *second = cached(&spec->seccomp, &hit);
        ck_assert(hit);
        struct berth_seccomp_filter *fresh = berth_seccomp_compile(&spec->seccomp, &err);
        ck_assert_msg(fresh != NULL, "%s", err.msg);
        assert_same_program(first, fresh);
        assert_same_program(second, fresh);
        /* The whole point: a hit costs a file read, not a compile. */
        berth_seccomp_filter_free(first);
        berth_seccomp_filter_free(second);
        berth_seccomp_filter_free(fresh);
        berth_spec_free(spec);
}
END_TEST

/* A cached program really filters: uname fails with the profile's errno. */
START_TEST(cached_program_filters)
{
        struct berth_seccomp_rule r;
        struct berth_seccomp s = small_profile(&r, ENOTDIR);
        bool hit = false;
        berth_seccomp_filter_free(cached(&s, &hit));
        struct berth_seccomp_filter *f = cached(&s, &hit);
        ck_assert(hit);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                struct utsname u;
                int nfd;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    berth_seccomp_filter_load(f, &nfd, &err) < 0)
                        _exit(100);
                errno = 0;
                _exit(uname(&u) == -1 && errno == ENOTDIR ? 0 : 1);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
        berth_seccomp_filter_free(f);
}
END_TEST

static void assert_miss(const struct berth_seccomp *s)
{
        struct berth_err err = {0};
        bool hit = true;
        struct berth_seccomp_filter *f = cached(s, &hit);
        ck_assert(!hit);
        struct berth_seccomp_filter *fresh = berth_seccomp_compile(s, &err);
        ck_assert_msg(fresh != NULL, "%s", err.msg);
        assert_same_program(f, fresh);
        berth_seccomp_filter_free(f);
        berth_seccomp_filter_free(fresh);
}

START_TEST(changed_profile_misses)
{
        struct berth_seccomp_rule r;
        struct berth_seccomp s = small_profile(&r, ENOTDIR);
        bool hit = false;
        berth_seccomp_filter_free(cached(&s, &hit));
        berth_seccomp_filter_free(cached(&s, &hit));
        ck_assert(hit);

        r.errno_ret = EISDIR; /* another errno */
        assert_miss(&s);
        r.errno_ret = ENOTDIR;
        r.action = BERTH_SCMP_ACT_LOG; /* another action */
        r.has_errno_ret = false;
        assert_miss(&s);
        s = small_profile(&r, ENOTDIR);
        s.default_action = BERTH_SCMP_ACT_LOG; /* another default */
        assert_miss(&s);
        s = small_profile(&r, ENOTDIR);
        struct berth_seccomp_arg arg = {.index = 0, .op = BERTH_SCMP_OP_EQ, .value = 1};
        r.args = &arg; /* an argument condition */
        r.n_args = 1;
        assert_miss(&s);
        arg.value = 2;
        assert_miss(&s);
        s = small_profile(&r, ENOTDIR);
        char *archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", NULL};
        s.architectures = archs; /* more architectures */
        s.n_architectures = 2;
        assert_miss(&s);
        s = small_profile(&r, ENOTDIR);
        s.flags = BERTH_SCMP_FLAG_SPEC_ALLOW; /* a flag */
        if (berth_seccomp_flag_supported(BERTH_SCMP_FLAG_SPEC_ALLOW))
                assert_miss(&s);
}
END_TEST

/* Names are length-prefixed in the key: ["ab","c"] is not ["a","bc"]. */
START_TEST(key_is_unambiguous)
{
        struct berth_seccomp_rule r1 = {.names = names_ab_c, .n_names = 2, .action = BERTH_SCMP_ACT_ERRNO};
        struct berth_seccomp_rule r2 = {.names = names_a_bc, .n_names = 2, .action = BERTH_SCMP_ACT_ERRNO};
        struct berth_seccomp s1 = {.default_action = BERTH_SCMP_ACT_ALLOW, .rules = &r1, .n_rules = 1};
        struct berth_seccomp s2 = {.default_action = BERTH_SCMP_ACT_ALLOW, .rules = &r2, .n_rules = 1};
        unsigned char *k1 = NULL, *k2 = NULL;
        size_t n1 = 0, n2 = 0;
        struct berth_err err = {0};
        ck_assert_int_eq(seccomp_cache_key(&s1, &k1, &n1, &err), 0);
        ck_assert_int_eq(seccomp_cache_key(&s2, &k2, &n2, &err), 0);
        ck_assert(n1 != n2 || memcmp(k1, k2, n1) != 0);
        /* ... and the key is stable: the same profile, the same bytes. */
        unsigned char *k3 = NULL;
        size_t n3 = 0;
        ck_assert_int_eq(seccomp_cache_key(&s1, &k3, &n3, &err), 0);
        ck_assert_uint_eq(n1, n3);
        ck_assert_int_eq(memcmp(k1, k3, n1), 0);
        free(k1);
        free(k2);
        free(k3);
}
END_TEST

static void rewrite(const char *path, void (*edit)(unsigned char *buf, size_t *len))
{
        unsigned char buf[1 << 16];
        int fd = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ssize_t n = read(fd, buf, sizeof(buf));
        ck_assert_int_gt(n, 0);
        size_t len = (size_t)n;
        edit(buf, &len);
        ck_assert_int_eq(ftruncate(fd, 0), 0);
        ck_assert_int_eq(pwrite(fd, buf, len, 0), (ssize_t)len);
        close(fd);
}

static void flip_last_byte(unsigned char *buf, size_t *len)
{
        buf[*len - 1] ^= 0x40; /* inside the BPF program */
}

static void flip_key_byte(unsigned char *buf, size_t *len)
{
        buf[48] ^= 0x01; /* inside the stored key */
}

static void truncate_half(unsigned char *buf, size_t *len)
{
        *len /= 2;
}

static void garbage(unsigned char *buf, size_t *len)
{
        memset(buf, 'x', *len);
}

START_TEST(corrupt_file_ignored_and_replaced)
{
        void (*edits[])(unsigned char *, size_t *) = {flip_last_byte, flip_key_byte, truncate_half, garbage};
        struct berth_seccomp_rule r;
        struct berth_seccomp s = small_profile(&r, ENOTDIR);
        char path[256];
        cache_path(&s, path, sizeof(path));
        bool hit = false;
        berth_seccomp_filter_free(cached(&s, &hit));
        for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
                rewrite(path, edits[i]);
                assert_miss(&s); /* ignored: compiled afresh */
                berth_seccomp_filter_free(cached(&s, &hit));
                ck_assert_msg(hit, "edit %zu: the corrupt file was not replaced", i);
        }
}
END_TEST

/* A valid file of another profile under this profile's name (a hash
 * collision, or a planted file) is not taken: the full key is compared. */
START_TEST(foreign_program_under_our_name)
{
        struct berth_seccomp_rule ra, rb;
        struct berth_seccomp a = small_profile(&ra, ENOTDIR);
        struct berth_seccomp b = small_profile(&rb, EISDIR);
        char pa[256], pb[256];
        cache_path(&a, pa, sizeof(pa));
        cache_path(&b, pb, sizeof(pb));
        ck_assert_str_ne(pa, pb);
        bool hit = false;
        berth_seccomp_filter_free(cached(&a, &hit));
        ck_assert_int_eq(rename(pa, pb), 0);
        assert_miss(&b);
        berth_seccomp_filter_free(cached(&b, &hit));
        ck_assert(hit);
}
END_TEST

/* A cache directory others can write to is never read. */
START_TEST(untrusted_dir_not_used)
{
        struct berth_seccomp_rule r;
        struct berth_seccomp s = small_profile(&r, ENOTDIR);
        bool hit = false;
        berth_seccomp_filter_free(cached(&s, &hit));
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/%s", root, BERTH_SECCOMP_CACHE_DIR);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        assert_miss(&s);
        assert_miss(&s);
        ck_assert_int_eq(chmod(dir, 0700), 0);
        berth_seccomp_filter_free(cached(&s, &hit));
        ck_assert(hit);
}
END_TEST

START_TEST(no_state_root_compiles)
{
        struct berth_seccomp_rule r;
        struct berth_seccomp s = small_profile(&r, ENOTDIR);
        struct berth_err err = {0};
        bool hit = true;
        struct berth_seccomp_filter *f = seccomp_cached_compile(-1, &s, &hit, &err);
        ck_assert_msg(f != NULL, "%s", err.msg);
        ck_assert(!hit);
        berth_seccomp_filter_free(f);
}
END_TEST

/* Compile errors come through unchanged, and nothing is stored. */
START_TEST(compile_error_passes_through)
{
        char *archs[] = {"SCMP_ARCH_NOPE", NULL};
        struct berth_seccomp_rule r;
        struct berth_seccomp s = small_profile(&r, ENOTDIR);
        s.architectures = archs;
        s.n_architectures = 1;
        struct berth_err err = {0};
        bool hit = true;
        ck_assert_ptr_null(seccomp_cached_compile(root_fd, &s, &hit, &err));
        ck_assert(!hit);
        ck_assert_ptr_nonnull(strstr(err.msg, "SCMP_ARCH_NOPE"));
        char path[256];
        cache_path(&s, path, sizeof(path));
        ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("seccomp_cache");
        TCase *tc = tcase_create("cache");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, miss_then_hit);
        tcase_add_test(tc, cached_program_filters);
        tcase_add_test(tc, changed_profile_misses);
        tcase_add_test(tc, key_is_unambiguous);
        tcase_add_test(tc, corrupt_file_ignored_and_replaced);
        tcase_add_test(tc, foreign_program_under_our_name);
        tcase_add_test(tc, untrusted_dir_not_used);
        tcase_add_test(tc, no_state_root_compiles);
        tcase_add_test(tc, compile_error_passes_through);
        suite_add_tcase(s, tc);
        return s;
}
