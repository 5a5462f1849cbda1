/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the systemd driver (libberth_systemd). */
#ifndef BERTH_CGROUPS_SYSTEMD_SDBUS_H
#define BERTH_CGROUPS_SYSTEMD_SDBUS_H

#include <systemd/sd-bus.h>

#include "berth/systemd.h"

/* libsystemd is dlopen()ed by the driver's first call (sdbus_dl.c):
 * linked, it and what it pulls in (liblzma, libzstd, liblz4, libgcrypt,
 * ...) would be mapped by every berth-full command, each VPS verb and
 * each VPS's console keeper among them, for the few that use systemd.
 * The sd-bus calls of the driver go through this table: the macros below
 * keep their usual names. */
#define SDBUS_FUNCTIONS(X)                                                                                   \
        X(sd_bus_call)                                                                                       \
        X(sd_bus_call_method)                                                                                \
        X(sd_bus_error_free)                                                                                 \
        X(sd_bus_error_get_errno)                                                                            \
        X(sd_bus_error_has_name)                                                                             \
        X(sd_bus_error_is_set)                                                                               \
        X(sd_bus_flush_close_unref)                                                                          \
        X(sd_bus_match_signal)                                                                               \
        X(sd_bus_message_append)                                                                             \
        X(sd_bus_message_append_array)                                                                       \
        X(sd_bus_message_close_container)                                                                    \
        X(sd_bus_message_new_method_call)                                                                    \
        X(sd_bus_message_open_container)                                                                     \
        X(sd_bus_message_read)                                                                               \
        X(sd_bus_message_unref)                                                                              \
        X(sd_bus_new)                                                                                        \
        X(sd_bus_open_system)                                                                                \
        X(sd_bus_process)                                                                                    \
        X(sd_bus_set_address)                                                                                \
        X(sd_bus_slot_unref)                                                                                 \
        X(sd_bus_start)                                                                                      \
        X(sd_bus_unref)                                                                                      \
        X(sd_bus_wait)

#define SDBUS_POINTER(f) __typeof__(f) *f;
struct sdbus_api {
        SDBUS_FUNCTIONS(SDBUS_POINTER)
};
#undef SDBUS_POINTER
extern struct sdbus_api sdbus_api;

/* Loads libsystemd.so.0 once; ENOTSUP naming the library when it is not
 * there. */
int sdbus_load(struct berth_err *err);

#ifndef SDBUS_DL_IMPL
#define sd_bus_call                    (*sdbus_api.sd_bus_call)
#define sd_bus_call_method             (*sdbus_api.sd_bus_call_method)
#define sd_bus_error_free              (*sdbus_api.sd_bus_error_free)
#define sd_bus_error_get_errno         (*sdbus_api.sd_bus_error_get_errno)
#define sd_bus_error_has_name          (*sdbus_api.sd_bus_error_has_name)
#define sd_bus_error_is_set            (*sdbus_api.sd_bus_error_is_set)
#define sd_bus_flush_close_unref       (*sdbus_api.sd_bus_flush_close_unref)
#define sd_bus_match_signal            (*sdbus_api.sd_bus_match_signal)
#define sd_bus_message_append          (*sdbus_api.sd_bus_message_append)
#define sd_bus_message_append_array    (*sdbus_api.sd_bus_message_append_array)
#define sd_bus_message_close_container (*sdbus_api.sd_bus_message_close_container)
#define sd_bus_message_new_method_call (*sdbus_api.sd_bus_message_new_method_call)
#define sd_bus_message_open_container  (*sdbus_api.sd_bus_message_open_container)
#define sd_bus_message_read            (*sdbus_api.sd_bus_message_read)
#define sd_bus_message_unref           (*sdbus_api.sd_bus_message_unref)
#define sd_bus_new                     (*sdbus_api.sd_bus_new)
#define sd_bus_open_system             (*sdbus_api.sd_bus_open_system)
#define sd_bus_process                 (*sdbus_api.sd_bus_process)
#define sd_bus_set_address             (*sdbus_api.sd_bus_set_address)
#define sd_bus_slot_unref              (*sdbus_api.sd_bus_slot_unref)
#define sd_bus_start                   (*sdbus_api.sd_bus_start)
#define sd_bus_unref                   (*sdbus_api.sd_bus_unref)
#define sd_bus_wait                    (*sdbus_api.sd_bus_wait)
#endif

/* Appends the (sv) properties for res (may be NULL) to an open a(sv). */
int sdbus_append_resources(sd_bus_message *m, const struct berth_resources *res);

#endif
