/* What joining only the needed v1 hierarchies saves (root): the init is
 * cloned into the cgroup2 mirror with CLONE_INTO_CGROUP, then attached to
 * the v1 hierarchies -- every hierarchy the runc way, or only those the
 * limits need. Prints the mean attach time of both; checks that fewer
 * hierarchies are joined. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "cgroups/internal.h"

#define ROUNDS 30

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One container: create, clone3 a child into it, time the attach, delete. */
static double one_round(bool all, size_t *n_v1)
{
        char path[64];
        snprintf(path, sizeof(path), "berth-cost-%d/c", getpid());
        struct berth_resources r = {0};
        r.memory.limit = (struct berth_opt_i64){true, 256 << 20};
        r.pids_limit = (struct berth_opt_i64){true, 100};
        struct berth_err err = {0};
        struct berth_cgroup_opts o = {.id = "c", .path = path, .resources = &r, .join_all_v1 = all};
        struct berth_cgroup *cg = berth_cgroup_new(&o, &err);
        ck_assert_msg(cg && berth_cgroup_create(cg, &err) == 0, "%s", err.msg);
        *n_v1 = cg->n - (cg_unified(cg) ? 1 : 0);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        struct clone_args ca = {.exit_signal = SIGCHLD};
        if (berth_cgroup_clone_fd(cg) >= 0) {
                ca.flags = CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)berth_cgroup_clone_fd(cg);
        }
        pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid == 0) {
                char c;
                close(p[1]);
                _exit(read(p[0], &c, 1) < 0);
        }
        ck_assert_int_gt(pid, 0);
        close(p[0]);
        double t0 = now_us();
        ck_assert_msg(berth_cgroup_attach(cg, pid, &err) == 0, "%s", err.msg);
        double dt = now_us() - t0;
        close(p[1]);
        waitpid(pid, NULL, 0);
        ck_assert_msg(berth_cgroup_destroy(cg, &err) == 0, "%s", err.msg);
        berth_cgroup_free(cg);
        return dt;
}

START_TEST(attach_cost)
{
        double sum_all = 0, sum_need = 0;
        size_t n_all = 0, n_need = 0;
        for (int i = 0; i < ROUNDS; i++) {
                sum_all += one_round(true, &n_all);
                sum_need += one_round(false, &n_need);
        }
        printf("attach to v1 hierarchies (mean of %d): all %zu hierarchies %.0f us, needed %zu "
               "(memory,pids) %.0f us, saved %.0f us per container\n",
               ROUNDS, n_all, sum_all / ROUNDS, n_need, sum_need / ROUNDS, (sum_all - sum_need) / ROUNDS);
        enum berth_cgroup_layout l;
        struct berth_err err = {0};
        berth_cgroup_detect_layout(&l, &err);
        if (l == BERTH_CG_HYBRID)
                ck_assert_uint_lt(n_need, n_all);
}
END_TEST

int main(void)
{
        if (geteuid() != 0) {
                printf("SKIP: needs root to create cgroups\n");
                return 77;
        }
        Suite *s = suite_create("cgroup_attach_cost");
        TCase *tc = tcase_create("cost");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, attach_cost);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
