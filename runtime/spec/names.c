/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The names config.json and the state file use for namespace types and hook
 * kinds ("network", "createRuntime"), for the parsers and for messages. */
#include <stddef.h>

#include "berth/spec.h"

static const char *const ns_names[BERTH_NS_COUNT] = {
    [BERTH_NS_PID] = "pid",       [BERTH_NS_NET] = "network", [BERTH_NS_MOUNT] = "mount",
    [BERTH_NS_IPC] = "ipc",       [BERTH_NS_UTS] = "uts",     [BERTH_NS_USER] = "user",
    [BERTH_NS_CGROUP] = "cgroup", [BERTH_NS_TIME] = "time",
};

static const char *const hook_names[BERTH_HOOK_KIND_COUNT] = {
    [BERTH_HOOK_PRESTART] = "prestart",
    [BERTH_HOOK_CREATE_RUNTIME] = "createRuntime",
    [BERTH_HOOK_CREATE_CONTAINER] = "createContainer",
    [BERTH_HOOK_START_CONTAINER] = "startContainer",
    [BERTH_HOOK_POSTSTART] = "poststart",
    [BERTH_HOOK_POSTSTOP] = "poststop",
};

const char *berth_ns_type_name(enum berth_ns_type t)
{
        return (unsigned)t < BERTH_NS_COUNT ? ns_names[t] : NULL;
}

const char *berth_hook_kind_name(enum berth_hook_kind k)
{
        return (unsigned)k < BERTH_HOOK_KIND_COUNT ? hook_names[k] : NULL;
}
