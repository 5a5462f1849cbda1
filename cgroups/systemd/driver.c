/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The systemd cgroup driver over sd-bus: transient units for containers.
 *
 * One connection per call (a verb makes at most two calls): the system
 * bus, or, when no D-Bus daemon answers (a minimal host, early boot),
 * systemd's private socket, which systemctl uses the same way as root.
 * Jobs are waited for through the manager's JobRemoved signal, bounded in
 * time; systemd sends it on the system bus only to subscribers, hence the
 * Subscribe() call. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgroups/systemd/sdbus.h"

#define SD_DEST    "org.freedesktop.systemd1"
#define SD_PATH    "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* runc waits as long for its unit jobs; a scope's job takes milliseconds. */
#define JOB_TIMEOUT_USEC  (30ULL * 1000000)
#define CALL_TIMEOUT_USEC (25ULL * 1000000)

/* NULL when libsystemd was never loaded (sdbus.h): nothing to call. */
static void bus_unrefp(sd_bus **b)
{
        if (*b)
                sd_bus_flush_close_unref(*b);
}
static void msg_unrefp(sd_bus_message **m)
{
        if (*m)
                sd_bus_message_unref(*m);
}
#define _cleanup_bus_ __attribute__((cleanup(bus_unrefp)))
#define _cleanup_msg_ __attribute__((cleanup(msg_unrefp)))

static int open_bus(sd_bus **ret, struct berth_err *err)
{
        int r = sdbus_load(err);
        if (r < 0)
                return r;
        r = sd_bus_open_system(ret);
        if (r >= 0)
                return 0;
        sd_bus *b = NULL;
        int p = sd_bus_new(&b);
        if (p >= 0)
                p = sd_bus_set_address(b, "unix:path=/run/systemd/private");
        if (p >= 0)
                p = sd_bus_start(b);
        if (p < 0) {
                sd_bus_unref(b);
                return berth_err_sys(err, -r,
                                     "systemd cgroup driver: connect to the system bus "
                                     "(nor systemd's private socket: %s)",
                                     strerror(-p));
        }
        *ret = b;
        return 0;
}

/* A D-Bus error as ours: its message and name, mapped to an errno. */
static int bus_err(struct berth_err *err, const sd_bus_error *e, int r, const char *what, const char *unit)
{
        int code = sd_bus_error_is_set(e) ? sd_bus_error_get_errno(e) : -r;
        if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists"))
                return berth_err_set(
                    err, EEXIST, "systemd: unit %s already exists (another container's cgroupsPath?)", unit);
        if (sd_bus_error_is_set(e))
                return berth_err_set(err, code ? code : EIO, "systemd: %s %s: %s (%s)", what, unit,
                                     e->message ? e->message : "failed", e->name);
        return berth_err_sys(err, code ? code : EIO, "systemd: %s %s", what, unit);
}

struct job_wait {
        char path[256]; /* the job's object path, once the call returned it */
        bool done;
        char result[32];
};

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *e)
{
        struct job_wait *w = data;
        uint32_t id;
        const char *path, *unit, *result;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && w->path[0] &&
            !strcmp(path, w->path)) {
                w->done = true;
                snprintf(w->result, sizeof(w->result), "%s", result);
        }
        return 0;
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int wait_job(sd_bus *bus, struct job_wait *w, const char *unit, struct berth_err *err)
{
        uint64_t deadline = now_usec() + JOB_TIMEOUT_USEC;
        while (!w->done) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return berth_err_sys(err, -r, "systemd: wait for the job of %s", unit);
                if (r > 0)
                        continue;
                uint64_t now = now_usec();
                if (now >= deadline)
                        return berth_err_set(err, ETIMEDOUT,
                                             "systemd: the job of %s did not finish in %llu s", unit,
                                             JOB_TIMEOUT_USEC / 1000000);
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0)
                        return berth_err_sys(err, -r, "systemd: wait for the job of %s", unit);
        }
        return 0;
}

/* Calls a Manager method that returns a job and waits for that job. */
static int call_job(sd_bus *bus, sd_bus_message *m, const char *what, const char *unit, char *result,
                    size_t len, struct berth_err *err)
{
        struct job_wait w = {0};
        sd_bus_slot *slot = NULL;
        int r = sd_bus_match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return berth_err_sys(err, -r, "systemd: subscribe to JobRemoved");
        sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        const char *job = NULL;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &e, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                bus_err(err, &e, r, what, unit);
                sd_bus_error_free(&e);
                sd_bus_slot_unref(slot);
                return -err->code;
        }
        snprintf(w.path, sizeof(w.path), "%s", job);
        r = wait_job(bus, &w, unit, err);
        sd_bus_slot_unref(slot);
        snprintf(result, len, "%s", w.result);
        return r;
}

static int new_call(sd_bus *bus, sd_bus_message **m, const char *method, struct berth_err *err)
{
        int r = sd_bus_message_new_method_call(bus, m, SD_DEST, SD_PATH, SD_MANAGER, method);
        return r < 0 ? berth_err_sys(err, -r, "systemd: build a %s call", method) : 0;
}

static int append_start_props(sd_bus_message *m, const struct berth_systemd_unit *u, const char *description,
                              pid_t pid, const struct berth_resources *res)
{
        int r = sd_bus_message_append(m, "ss", u->name, "replace");
        r = r < 0 ? r : sd_bus_message_open_container(m, 'a', "(sv)");
        r = r < 0 ? r : sd_bus_message_append(m, "(sv)", "Description", "s", description);
        /* Not stopped early at shutdown, before whoever manages the
         * container (runc does the same). */
        r = r < 0 ? r : sd_bus_message_append(m, "(sv)", "DefaultDependencies", "b", 0);
        static const char *const accounting[] = {"MemoryAccounting", "CPUAccounting", "IOAccounting",
                                                 "TasksAccounting"};
        for (size_t i = 0; r >= 0 && i < sizeof(accounting) / sizeof(accounting[0]); i++)
                r = sd_bus_message_append(m, "(sv)", accounting[i], "b", 1);
        if (!u->is_slice) {
                r = r < 0 ? r : sd_bus_message_append(m, "(sv)", "Slice", "s", u->slice);
                /* The scope's cgroup is ours to write (limits, freezer, kill). */
                r = r < 0 ? r : sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
                r = r < 0 ? r : sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
        }
        r = r < 0 ? r : sdbus_append_resources(m, res);
        r = r < 0 ? r : sd_bus_message_close_container(m);
        return r < 0 ? r : sd_bus_message_append(m, "a(sa(sv))", 0);
}

static int start_once(sd_bus *bus, const struct berth_systemd_unit *u, const char *description, pid_t pid,
                      const struct berth_resources *res, struct berth_err *err)
{
        _cleanup_msg_ sd_bus_message *m = NULL;
        int r = new_call(bus, &m, "StartTransientUnit", err);
        if (r < 0)
                return r;
        r = append_start_props(m, u, description, pid, res);
        if (r < 0)
                return berth_err_sys(err, -r, "systemd: properties of unit %s", u->name);
        char result[32];
        r = call_job(bus, m, "start transient unit", u->name, result, sizeof(result), err);
        if (r >= 0 && strcmp(result, "done"))
                return berth_err_set(err, EIO, "systemd: start of unit %s ended with \"%s\"", u->name,
                                     result);
        return r;
}

/* A unit of that name that failed (an earlier container of the same
 * name, killed by the OOM killer, deleted without the driver) stays
 * loaded until reset: reset it and try once more, as runc does. An
 * active unit stays as it is, and the name stays taken. */
static int sd_start(const struct berth_systemd_unit *u, const char *description, pid_t pid,
                    const struct berth_resources *res, struct berth_err *err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = open_bus(&bus, err);
        if (r >= 0)
                r = start_once(bus, u, description, pid, res, err);
        if (r != -EEXIST)
                return r;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        bool reset = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", &e, NULL, "s",
                                        u->name) >= 0;
        sd_bus_error_free(&e);
        return reset ? start_once(bus, u, description, pid, res, err) : r;
}

static int sd_set(const char *unit, const struct berth_resources *res, struct berth_err *err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_msg_ sd_bus_message *m = NULL;
        int r = open_bus(&bus, err);
        if (r >= 0)
                r = new_call(bus, &m, "SetUnitProperties", err);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "sb", unit, 1); /* runtime: gone at reboot, like the unit */
        r = r < 0 ? r : sd_bus_message_open_container(m, 'a', "(sv)");
        r = r < 0 ? r : sdbus_append_resources(m, res);
        r = r < 0 ? r : sd_bus_message_close_container(m);
        if (r < 0)
                return berth_err_sys(err, -r, "systemd: properties of unit %s", unit);
        sd_bus_error e = SD_BUS_ERROR_NULL;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &e, NULL);
        if (r < 0)
                bus_err(err, &e, r, "set properties of unit", unit);
        sd_bus_error_free(&e);
        return r < 0 ? -err->code : 0;
}

static bool no_such_unit(const struct berth_err *err)
{
        return strstr(err->msg, "org.freedesktop.systemd1.NoSuchUnit") != NULL;
}

/* A unit systemd has already collected (the container's processes all
 * ended, so the scope stopped by itself) is what we want anyway. A failed
 * one would stay listed: reset it. */
static int sd_stop(const char *unit, struct berth_err *err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_msg_ sd_bus_message *m = NULL;
        int r = open_bus(&bus, err);
        if (r >= 0)
                r = new_call(bus, &m, "StopUnit", err);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return berth_err_sys(err, -r, "systemd: stop unit %s", unit);
        char result[32] = "";
        r = call_job(bus, m, "stop unit", unit, result, sizeof(result), err);
        if (r < 0 && no_such_unit(err))
                return 0;
        if (r < 0)
                return r;
        sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s", unit);
        return strcmp(result, "done")
                   ? berth_err_set(err, EIO, "systemd: stop of unit %s ended with \"%s\"", unit, result)
                   : 0;
}

static const struct berth_systemd_driver driver = {
    .start = sd_start,
    .set = sd_set,
    .stop = sd_stop,
};

const struct berth_systemd_driver *berth_systemd_driver(void)
{
        return &driver;
}
