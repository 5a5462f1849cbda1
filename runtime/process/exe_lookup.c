/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execvp-like lookup of process.args[0], with runc's error wording.
 *
 * Done before execve so that a missing binary produces the message clients
 * (docker, podman, containerd) recognise and map to exit codes 127/126,
 * instead of a bare ENOENT from execve. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "berth/process.h"

/* 0 when path is something execve could run: exists, is not a directory and
 * has an execute bit. Otherwise -errno (stat's, or EACCES). */
static int check_executable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0)
                return -EACCES;
        return 0;
}

static const char *env_path(char *const env[])
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], "PATH=", 5) == 0)
                        return env[i] + 5;
        return BERTH_DEFAULT_PATH;
}

static int copy_out(const char *arg0, const char *path, char *out, size_t out_len, struct berth_err *err)
{
        if (strlen(path) >= out_len)
                return berth_err_set(err, ENAMETOOLONG, "exec: \"%s\": file name too long", arg0);
        strcpy(out, path);
        return 0;
}

static int lookup_path(const char *arg0, char *const env[], char *out, size_t out_len, struct berth_err *err)
{
        const char *p = env_path(env);
        char cand[4096];

        for (;;) {
                const char *end = strchrnul(p, ':');
                size_t dlen = (size_t)(end - p);
                /* An empty PATH entry means the current directory. */
                int n = dlen == 0 ? snprintf(cand, sizeof(cand), "./%s", arg0)
                                  : snprintf(cand, sizeof(cand), "%.*s/%s", (int)dlen, p, arg0);
                if (n > 0 && (size_t)n < sizeof(cand) && check_executable(cand) == 0)
                        return copy_out(arg0, cand, out, out_len, err);
                if (*end == '\0')
                        break;
                p = end + 1;
        }
        return berth_err_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

int berth_exe_lookup(const char *arg0, char *const env[], char *out, size_t out_len, struct berth_err *err)
{
        if (!arg0 || !*arg0)
                return berth_err_set(err, ENOENT, "exec: \"\": executable file not found in $PATH");
        if (!strchr(arg0, '/'))
                return lookup_path(arg0, env, out, out_len, err);

        int r = check_executable(arg0);
        if (r == -EACCES)
                return berth_err_set(err, EACCES, "exec: \"%s\": permission denied", arg0);
        if (r < 0) {
                /* strerror's capital letter differs from Go's wording; runc
                 * prints the lower-case form, which clients match on. */
                char msg[128];
                snprintf(msg, sizeof(msg), "%s", strerror(-r));
                if (msg[0] >= 'A' && msg[0] <= 'Z')
                        msg[0] = (char)(msg[0] - 'A' + 'a');
                return berth_err_set(err, -r, "exec: \"%s\": stat %s: %s", arg0, arg0, msg);
        }
        return copy_out(arg0, arg0, out, out_len, err);
}
