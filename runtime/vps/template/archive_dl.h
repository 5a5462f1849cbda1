/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libarchive, loaded on first use.
 *
 * Only template import and copy need libarchive, but linking it pulls about
 * twenty shared libraries into every berth process (about 2 ms and 3 MiB
 * for each container start). So berth does not link it: the template code
 * calls it through this table, which dlopen() fills the first time a
 * template operation needs it. */
#ifndef BERTH_ROOTFS_ARCHIVE_DL_H
#define BERTH_ROOTFS_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "berth/err.h"

#define BERTH_ARCHIVE_FUNCS(X)                                                                               \
        X(archive_entry_atime)                                                                               \
        X(archive_entry_atime_nsec)                                                                          \
        X(archive_entry_copy_hardlink)                                                                       \
        X(archive_entry_copy_pathname)                                                                       \
        X(archive_entry_copy_stat)                                                                           \
        X(archive_entry_copy_symlink)                                                                        \
        X(archive_entry_filetype)                                                                            \
        X(archive_entry_free)                                                                                \
        X(archive_entry_gid)                                                                                 \
        X(archive_entry_hardlink)                                                                            \
        X(archive_entry_mode)                                                                                \
        X(archive_entry_mtime)                                                                               \
        X(archive_entry_mtime_nsec)                                                                          \
        X(archive_entry_new)                                                                                 \
        X(archive_entry_pathname)                                                                            \
        X(archive_entry_rdev)                                                                                \
        X(archive_entry_set_gid)                                                                             \
        X(archive_entry_set_hardlink)                                                                        \
        X(archive_entry_set_pathname)                                                                        \
        X(archive_entry_set_size)                                                                            \
        X(archive_entry_set_uid)                                                                             \
        X(archive_entry_size)                                                                                \
        X(archive_entry_sparse_add_entry)                                                                    \
        X(archive_entry_symlink)                                                                             \
        X(archive_entry_uid)                                                                                 \
        X(archive_entry_xattr_add_entry)                                                                     \
        X(archive_entry_xattr_next)                                                                          \
        X(archive_entry_xattr_reset)                                                                         \
        X(archive_errno)                                                                                     \
        X(archive_error_string)                                                                              \
        X(archive_read_data)                                                                                 \
        X(archive_read_data_block)                                                                           \
        X(archive_read_data_skip)                                                                            \
        X(archive_read_disk_entry_from_file)                                                                 \
        X(archive_read_disk_new)                                                                             \
        X(archive_read_free)                                                                                 \
        X(archive_read_new)                                                                                  \
        X(archive_read_next_header)                                                                          \
        X(archive_read_open)                                                                                 \
        X(archive_read_open_fd)                                                                              \
        X(archive_read_open_filename)                                                                        \
        X(archive_read_support_filter_all)                                                                   \
        X(archive_read_support_filter_zstd)                                                                  \
        X(archive_read_support_format_all)                                                                   \
        X(archive_read_support_format_tar)                                                                   \
        X(archive_write_add_filter_zstd)                                                                     \
        X(archive_write_close)                                                                               \
        X(archive_write_data)                                                                                \
        X(archive_write_data_block)                                                                          \
        X(archive_write_disk_new)                                                                            \
        X(archive_write_disk_set_options)                                                                    \
        X(archive_write_finish_entry)                                                                        \
        X(archive_write_free)                                                                                \
        X(archive_write_header)                                                                              \
        X(archive_write_new)                                                                                 \
        X(archive_write_open_fd)                                                                             \
        X(archive_write_set_filter_option)                                                                   \
        X(archive_write_set_format_pax_restricted)

struct archive_api {
#define BERTH_ARCHIVE_PTR(name) __typeof__(name) *name;
        BERTH_ARCHIVE_FUNCS(BERTH_ARCHIVE_PTR)
#undef BERTH_ARCHIVE_PTR
};

/* Loads libarchive (once per process); errors name the library. */
int archive_load(struct berth_err *err);

/* The table; only valid after archive_load() succeeded. */
const struct archive_api *archive_api_get(void);

/* Calls a libarchive function through the table: AR(archive_read_new)(). */
#define AR(fn) (archive_api_get()->fn)

#endif
