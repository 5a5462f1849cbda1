/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Crash safety of the OCI verbs.
 *
 * (a) Fault injection: a small ptrace stepper runs `create`, `run -d`,
 *     `start` and `delete --force`, counts its syscall stops and SIGKILLs
 *     it at the Nth one -- the CLI alone, or the CLI with every process it
 *     started -- for N spread over the whole run. Then the next natural
 *     command, `delete --force ID`, must finish in bounded time and leave
 *     nothing: no state entry (temporary ones included), no cgroup in any
 *     hierarchy, no process, no mount.
 * (b) Damaged state files: a truncated, empty or garbage state.json (and
 *     none at all, with a .tmp leftover) under a created and a running
 *     container: state and list say "unknown", never "stopped" while the
 *     init runs; kill, start and delete fail saying what is wrong and that
 *     delete --force repairs it; delete --force leaves nothing.
 * (c) A full state root: create fails with "no space left on <root>" and
 *     leaves nothing.
 *
 * CRASH_POINTS=n sets the injection points per verb and mode (default 50;
 * 0 = every syscall stop). */
#include "harness.h"
#include "stepper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define DELETE_TIMEOUT_MS 15000
#define STEP_TIMEOUT_S    20

/* ---- the stepper (stepper.c) --------------------------------------------- */

/* Runs argv under the stepper and SIGKILLs it (mode) at syscall stop `at`.
 * Returns the number of syscall stops seen; *killed says whether the
 * kill happened before the command ended on its own. */
static int step_run(const char *const *argv, int at, enum itest_kill_mode mode, bool *killed)
{
        struct itest_step s = {.argv = argv,
                               .log = itest_path("stepper.log"),
                               .at = at,
                               .mode = mode,
                               .stop_timeout_s = STEP_TIMEOUT_S};
        int stops = itest_step_run(&s, killed);
        ck_assert_msg(stops != -ETIMEDOUT, "%s %s hung under the stepper", argv[3], argv[4]);
        ck_assert_msg(stops >= 0, "stepper: %s", strerror(-stops));
        return stops;
}

/* ---- what is left -------------------------------------------------------- */

/* Beyond itest_nothing_left: a temporary state directory, or any live
 * process whose command line names the container (an init before its
 * execve is still `berth ... create ID`). */
static void assert_nothing_left(const char *id, const char *dir, const char *when)
{
        char why[1024];
        ck_assert_msg(itest_nothing_left(id, dir, why, sizeof(why)), "%s: left behind by '%s': %s", when, id,
                      why);
        char tmpname[128];
        snprintf(tmpname, sizeof(tmpname), ".new.%s.", id);
        DIR *d = opendir(itest()->state);
        struct dirent *e;
        while (d && (e = readdir(d)))
                ck_assert_msg(strncmp(e->d_name, tmpname, strlen(tmpname)), "%s: temporary state dir %s left",
                              when, e->d_name);
        if (d)
                closedir(d);
        d = opendir("/proc");
        while (d && (e = readdir(d))) {
                char path[300], buf[4096], stat[64];
                if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
                FILE *f = fopen(path, "re");
                size_t n = f ? fread(buf, 1, sizeof(buf) - 2, f) : 0; /* room for the " " below */
                if (f)
                        fclose(f);
                for (size_t i = 0; i < n; i++)
                        buf[i] = buf[i] ? buf[i] : ' ';
                buf[n] = '\0';
                char needle[80];
                snprintf(needle, sizeof(needle), " %s ", id);
                strcat(buf, " ");
                if (!strstr(buf, needle))
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
                f = fopen(path, "re");
                n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
                if (f)
                        fclose(f);
                stat[n] = '\0';
                const char *p = strrchr(stat, ')');
                if (p && (p[2] == 'Z' || p[2] == 'X'))
                        continue;
                ck_abort_msg("%s: process %s (%.100s) of '%s' left", when, e->d_name, buf, id);
        }
        if (d)
                closedir(d);
}

/* The next natural command after a crash: bounded, successful, clean. */
static void force_delete_clean(const char *id, const char *dir, const char *when)
{
        struct itest_result r;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        o.timeout_ms = DELETE_TIMEOUT_MS;
        const char *argv[] = {"delete", "--force", id, NULL};
        itest_rt_opts(&r, &o, argv);
        ck_assert_msg(r.status != -1, "%s: delete --force %s hung (> %d ms)", when, id, DELETE_TIMEOUT_MS);
        ck_assert_msg(r.status == 0, "%s: delete --force %s: exit %d\n%s", when, id, r.status, r.err);
        assert_nothing_left(id, dir, when);
        free(r.out);
        free(r.err);
}

/* After a killed start, the next natural command is start again: it must
 * end (succeed, or say the container is no longer created), not wait for
 * a go the init took already; `state` must then agree with the truth. */
static void retry_start(const char *id, const char *when)
{
        struct itest_result r;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        o.timeout_ms = DELETE_TIMEOUT_MS;
        const char *argv[] = {"start", id, NULL};
        itest_rt_opts(&r, &o, argv);
        ck_assert_msg(r.status != -1, "%s: start again hung", when);
        const char *st = itest_state_status(id);
        ck_assert_msg(st && strcmp(st, "created"), "%s: start again (exit %d: %s): state still says %s", when,
                      r.status, r.err, st ? st : "(failed)");
        free(r.out);
        free(r.err);
}

/* ---- (a) fault injection ------------------------------------------------- */

enum verb { V_CREATE, V_RUN, V_START, V_DELETE };
static const char *const verb_names[] = {"create", "run -d", "start", "delete --force"};

static void rt_ok(const char *a, const char *b, const char *c, const char *d)
{
        struct itest_result r;
        itest_rt(&r, a, b, c, d, NULL);
        itest_assert_status(&r, 0);
}

/* Brings a fresh container to where the verb starts and fills argv. */
static void prepare(enum verb v, struct itest_bundle *b, const char **argv)
{
        itest_bundle_new(b, "crash", itest_spec("probe", "sleep", NULL));
        if (v == V_START || v == V_DELETE)
                rt_ok("create", "--bundle", b->dir, b->id);
        if (v == V_DELETE)
                rt_ok("start", b->id, NULL, NULL);
        size_t n = 0;
        argv[n++] = itest()->bin;
        argv[n++] = "--root";
        argv[n++] = itest()->state;
        switch (v) {
        case V_CREATE:
        case V_RUN:
                argv[n++] = v == V_CREATE ? "create" : "run";
                if (v == V_RUN)
                        argv[n++] = "-d";
                argv[n++] = "--bundle";
                argv[n++] = b->dir;
                break;
        case V_START:
                argv[n++] = "start";
                break;
        case V_DELETE:
                argv[n++] = "delete";
                argv[n++] = "--force";
                break;
        }
        argv[n++] = b->id;
        argv[n] = NULL;
}

static int points_wanted(void)
{
        const char *e = getenv("CRASH_POINTS");
        return e ? atoi(e) : 50;
}

/* One verb in one kill mode: count its stops on a clean run, then kill it
 * at points spread over them. Returns the points covered. */
static int inject_verb(enum verb v, enum itest_kill_mode mode)
{
        struct itest_bundle b;
        const char *argv[16];
        bool killed;
        char when[160];

        prepare(v, &b, argv);
        int total = step_run(argv, -1, mode, &killed);
        force_delete_clean(b.id, b.dir, "clean run");
        ck_assert_msg(total > 10, "%s: only %d syscall stops", verb_names[v], total);
        int want = points_wanted();
        int stride = want <= 0 || want >= total ? 1 : total / want;
        int covered = 0;
        for (int at = 1; at <= total; at += stride) {
                prepare(v, &b, argv);
                step_run(argv, at, mode, &killed);
                snprintf(when, sizeof(when), "%s killed (%s) at syscall stop %d/%d", verb_names[v],
                         mode == ITEST_KILL_CLI ? "the CLI" : "every berth process", at, total);
                if (v == V_START)
                        retry_start(b.id, when);
                force_delete_clean(b.id, b.dir, when);
                covered += killed;
        }
        printf("crash: %-15s kill %-9s %3d injection points over %d syscall stops\n", verb_names[v],
               mode == ITEST_KILL_CLI ? "CLI" : "all", covered, total);
        fflush(stdout);
        return covered;
}

static void inject(enum verb v)
{
        int covered = inject_verb(v, ITEST_KILL_CLI) + inject_verb(v, ITEST_KILL_ALL);
        printf("crash: %s: %d injection points covered\n", verb_names[v], covered);
        fflush(stdout);
        ck_assert_int_gt(covered, 0);
}

START_TEST(kill9_create)
{
        inject(V_CREATE);
}
END_TEST

START_TEST(kill9_run_detached)
{
        inject(V_RUN);
}
END_TEST

START_TEST(kill9_start)
{
        inject(V_START);
}
END_TEST

START_TEST(kill9_delete_force)
{
        inject(V_DELETE);
}
END_TEST

/* ---- (b) damaged state files --------------------------------------------- */

enum damage { D_TRUNCATED, D_EMPTY, D_GARBAGE, D_MISSING };
static const char *const damage_names[] = {"truncated", "empty", "garbage", "missing (+ .tmp)"};

static void damage_state(const char *id, enum damage d)
{
        char path[PATH_MAX + 64], tmp[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s/state.json", itest()->state, id);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        struct stat sb;
        ck_assert_msg(stat(path, &sb) == 0, "no %s", path);
        switch (d) {
        case D_TRUNCATED:
                ck_assert_int_eq(truncate(path, sb.st_size / 2), 0);
                break;
        case D_EMPTY:
                ck_assert_int_eq(truncate(path, 0), 0);
                break;
        case D_GARBAGE: {
                FILE *f = fopen(path, "we");
                fputs("\x01garbage{\"id\":", f);
                fclose(f);
                break;
        }
        case D_MISSING:
                ck_assert_int_eq(rename(path, tmp), 0);
                ck_assert_int_eq(truncate(tmp, sb.st_size / 3), 0);
                break;
        }
}

static void assert_fails_with_repair_hint(const char *what, const struct itest_result *r)
{
        ck_assert_msg(r->status != -1, "%s hung", what);
        ck_assert_msg(r->status != 0, "%s succeeded on a damaged container\n%s", what, r->out);
        ck_assert_msg(strstr(r->err, "delete --force"), "%s: error does not say how to repair: %s", what,
                      r->err);
}

static void check_damaged(enum damage d, bool running)
{
        struct itest_bundle b;
        struct itest_result r;
        char what[128];

        itest_bundle_new(&b, "crashdmg", itest_spec("probe", "sleep", NULL));
        rt_ok("create", "--bundle", b.dir, b.id);
        if (running)
                rt_ok("start", b.id, NULL, NULL);
        json_t *st = itest_state(b.id);
        ck_assert_ptr_nonnull(st);
        int pid = (int)json_integer_value(json_object_get(st, "pid"));
        damage_state(b.id, d);
        snprintf(what, sizeof(what), "%s state.json of a %s container", damage_names[d],
                 running ? "running" : "created");

        itest_rt(&r, "state", b.id, NULL);
        ck_assert_msg(r.status != -1, "%s: state hung", what);
        ck_assert_msg(!strstr(r.out, "\"stopped\""), "%s: state says stopped while the init runs:\n%s", what,
                      r.out);
        ck_assert_msg(strstr(r.out, "\"unknown\"") || r.status != 0, "%s: state does not say unknown:\n%s",
                      what, r.out);
        ck_assert_msg(strstr(r.err, "delete --force"), "%s: state gives no reason: %s", what, r.err);
        itest_rt(&r, "list", NULL);
        ck_assert_msg(r.status == 0, "%s: list failed: %s", what, r.err);
        const char *line = strstr(r.out, b.id);
        ck_assert_msg(line, "%s: list omits the container:\n%s", what, r.out);
        ck_assert_msg(strstr(line, "unknown") &&
                          (!strstr(line, "stopped") || strstr(line, "unknown") < strstr(line, "stopped")),
                      "%s: list does not say unknown:\n%s", what, r.out);
        itest_rt(&r, "kill", b.id, "KILL", NULL);
        assert_fails_with_repair_hint("kill", &r);
        itest_rt(&r, "start", b.id, NULL);
        assert_fails_with_repair_hint("start", &r);
        itest_rt(&r, "delete", b.id, NULL);
        assert_fails_with_repair_hint("delete", &r);
        ck_assert_msg(kill(pid, 0) == 0, "%s: the init %d died from a failing verb", what, pid);
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        o.timeout_ms = DELETE_TIMEOUT_MS;
        const char *argv[] = {"delete", "--force", b.id, NULL};
        itest_rt_opts(&r, &o, argv);
        ck_assert_msg(r.status == 0, "%s: delete --force: exit %d: %s", what, r.status, r.err);
        ck_assert_msg(strstr(r.err, "repaired"), "%s: delete --force does not say what it repaired: %s", what,
                      r.err);
        assert_nothing_left(b.id, b.dir, what);
}

START_TEST(damaged_state_created)
{
        for (enum damage d = D_TRUNCATED; d <= D_MISSING; d++)
                check_damaged(d, false);
}
END_TEST

START_TEST(damaged_state_running)
{
        for (enum damage d = D_TRUNCATED; d <= D_MISSING; d++)
                check_damaged(d, true);
}
END_TEST

/* Repairing a damaged container still runs its poststop hooks (they may
 * free what the container held outside, e.g. its network). */
START_TEST(damaged_state_runs_poststop)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *dir = itest_mkdtemp("poststop");
        char cmd[PATH_MAX + 32], log[PATH_MAX + 16];
        snprintf(log, sizeof(log), "%s/log", dir);
        snprintf(cmd, sizeof(cmd), "cat > %s", log);
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        itest_push(cfg, "hooks.poststop",
                   json_pack("{s:s,s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", cmd));
        itest_bundle_new(&b, "crashhook", cfg);
        rt_ok("create", "--bundle", b.dir, b.id);
        rt_ok("start", b.id, NULL, NULL);
        damage_state(b.id, D_GARBAGE);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        char *text = itest_read_file(log);
        ck_assert_msg(strstr(text, b.id), "poststop hook did not run (or got no state): '%s'", text);
        assert_nothing_left(b.id, b.dir, "repair with a poststop hook");
}
END_TEST

/* The record made before create knows which cgroup levels were there:
 * repairing removes the intermediate level create made, not only the leaf
 * (and no level that was there before). */
START_TEST(repair_removes_created_levels)
{
        struct itest_bundle b;
        struct itest_result r;
        char path[256], mid[200];
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        snprintf(mid, sizeof(mid), "%s/crashlvl-mid-%d", itest()->cgparent, (int)getpid());
        snprintf(path, sizeof(path), "%s/leaf", mid);
        itest_set(cfg, "linux.cgroupsPath", json_string(path));
        /* Another container keeps the test's parent cgroup in place. */
        struct itest_bundle keeper;
        itest_bundle_new(&keeper, "crashkeep", itest_spec("probe", "sleep", NULL));
        rt_ok("create", "--bundle", keeper.dir, keeper.id);
        itest_bundle_new(&b, "crashlvl", cfg);
        size_t np;
        char **parents = itest_cgroup_dirs(itest()->cgparent, &np);
        bool had[64] = {false};
        for (size_t i = 0; i < np && i < 64; i++)
                had[i] = access(parents[i], F_OK) == 0;
        rt_ok("create", "--bundle", b.dir, b.id);
        rt_ok("start", b.id, NULL, NULL);
        damage_state(b.id, D_EMPTY);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        size_t n;
        char **dirs = itest_cgroup_dirs(mid, &n);
        for (size_t i = 0; i < n; i++)
                ck_assert_msg(access(dirs[i], F_OK) != 0, "cgroup level %s made by create left", dirs[i]);
        for (size_t i = 0; i < np && i < 64; i++)
                ck_assert_msg(!had[i] || access(parents[i], F_OK) == 0,
                              "the pre-existing parent %s was removed", parents[i]);
        assert_nothing_left(b.id, b.dir, "repair with an intermediate level");
        ck_assert_int_gt(itest_cgroup_nprocs(keeper.id), 0);
        force_delete_clean(keeper.id, keeper.dir, "the other container");
}
END_TEST

/* A state directory whose creator died before it wrote state.json, init
 * waiting on exec.fifo: made by hand from a real create, as a crash after
 * READY leaves it. */
START_TEST(creating_with_dead_creator)
{
        struct itest_bundle b;
        struct itest_result r;
        itest_bundle_new(&b, "crashcr", itest_spec("probe", "sleep", NULL));
        rt_ok("create", "--bundle", b.dir, b.id);
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s/state.json", itest()->state, b.id);
        ck_assert_int_eq(unlink(path), 0);
        itest_rt(&r, "state", b.id, NULL);
        ck_assert_msg(!strstr(r.out, "\"creating\"") && !strstr(r.out, "\"stopped\""),
                      "a dead create shows as %s", r.out);
        itest_rt(&r, "delete", b.id, NULL);
        assert_fails_with_repair_hint("delete", &r);
        ck_assert_int_gt(itest_cgroup_nprocs(b.id), 0);
        force_delete_clean(b.id, b.dir, "init blocked on exec.fifo, no state.json");
}
END_TEST

/* ---- (c) out of space ---------------------------------------------------- */

START_TEST(create_on_full_root)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *mnt = itest_mkdtemp("full");
        ck_assert_msg(mount("crash-full", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") == 0,
                      "mount tmpfs: %s", strerror(errno));
        char root[PATH_MAX], fill[PATH_MAX + 8], saved[PATH_MAX];
        snprintf(root, sizeof(root), "%s/state", mnt);
        snprintf(fill, sizeof(fill), "%s/fill", mnt);
        ck_assert_int_eq(mkdir(root, 0711), 0);
        int fd = open(fill, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        char block[4096] = {0};
        while (write(fd, block, sizeof(block)) > 0)
                ;
        close(fd);

        itest_bundle_new(&b, "crashfull", itest_spec("probe", "sleep", NULL));
        snprintf(saved, sizeof(saved), "%s", itest()->state);
        snprintf(itest()->state, sizeof(itest()->state), "%s", root);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "create on a full state root succeeded");
        char want[PATH_MAX + 32];
        snprintf(want, sizeof(want), "no space left on %s", root);
        ck_assert_msg(strstr(r.err, want), "error does not say '%s': %s", want, r.err);
        assert_nothing_left(b.id, b.dir, "create on a full root");
        DIR *d = opendir(root);
        struct dirent *e;
        while (d && (e = readdir(d)))
                ck_assert_msg(!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
                                  !strcmp(e->d_name, ".seccomp-cache"),
                              "left in the full root: %s", e->d_name);
        if (d)
                closedir(d);
        snprintf(itest()->state, sizeof(itest()->state), "%s", saved);
        ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("crash");
        itest_add(s, "damaged_state_created", damaged_state_created);
        itest_add(s, "damaged_state_running", damaged_state_running);
        itest_add(s, "creating_with_dead_creator", creating_with_dead_creator);
        itest_add(s, "damaged_state_runs_poststop", damaged_state_runs_poststop);
        itest_add(s, "repair_removes_created_levels", repair_removes_created_levels);
        itest_add(s, "create_on_full_root", create_on_full_root);
        /* Each runs its verb ~200 times (CRASH_POINTS per kill mode): 20 s
         * on an idle host, and a few times that beside the VPS suites. */
        itest_add_timeout(s, "kill9_create", kill9_create, 240);
        itest_add_timeout(s, "kill9_run_detached", kill9_run_detached, 240);
        itest_add_timeout(s, "kill9_start", kill9_start, 240);
        itest_add_timeout(s, "kill9_delete_force", kill9_delete_force, 240);
        return s;
}
