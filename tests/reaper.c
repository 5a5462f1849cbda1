/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-test-reaper CMD [ARG...] -- runs CMD as a child subreaper, so that
 * every process the tests leave orphaned (a container's init after
 * `berth create` exits, a VPS's console keeper) becomes our child instead
 * of pid 1's. Two reasons: on a host whose pid 1 does not reap (some
 * sandboxes), those would stay zombies; and it lets the test run check
 * that nothing is left behind. After CMD exits we reap; whatever is still
 * alive after a grace period is listed, killed and makes us fail.
 *
 * Exit status: CMD's, or 1 when it left processes running. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRACE_MS 10000

/* Reaps what has ended; true when no child is left at all. */
static bool reap_all(void)
{
        for (;;) {
                pid_t pid = waitpid(-1, NULL, WNOHANG);
                if (pid == 0)
                        return false;
                if (pid < 0)
                        return errno == ECHILD;
        }
}

/* Lists and kills our remaining children (orphans adopted from the run). */
static int kill_leftovers(void)
{
        int n = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                char path[64], buf[512];
                snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                size_t len = fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
                buf[len] = '\0';
                char *end = strrchr(buf, ')');
                int ppid = 0;
                char state = 0;
                if (!end || sscanf(end + 1, " %c %d", &state, &ppid) != 2 || ppid != getpid() || state == 'Z')
                        continue;
                end[1] = '\0';
                fprintf(stderr, "berth-test-reaper: left running: %s\n", buf);
                kill(atoi(e->d_name), SIGKILL);
                n++;
        }
        if (d)
                closedir(d);
        return n;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: berth-test-reaper CMD [ARG...]\n");
                return 2;
        }
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                perror("berth-test-reaper: PR_SET_CHILD_SUBREAPER");
                return 2;
        }
        pid_t cmd = fork();
        if (cmd == 0) {
                execvp(argv[1], argv + 1);
                perror(argv[1]);
                _exit(127);
        }
        /* Orphans are reaped as they end, not piled up until CMD is done. */
        int status = 0, st;
        for (;;) {
                pid_t pid = waitpid(-1, &st, 0);
                if (pid == cmd) {
                        status = st;
                        break;
                }
                if (pid < 0 && errno != EINTR)
                        return 2;
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        for (int waited = 0; !reap_all() && waited < GRACE_MS; waited += 50)
                nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
        if (kill_leftovers() > 0) {
                while (!reap_all())
                        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
                return code ? code : 1;
        }
        return code;
}
