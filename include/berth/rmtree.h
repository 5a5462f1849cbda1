/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one recursive delete: never follows a symlink (it unlinks the link)
 * and never enters a mount point, so a bind mount left inside a tree
 * (guest data, a build's /dev or /proc) is never emptied through it. */
#ifndef BERTH_RMTREE_H
#define BERTH_RMTREE_H

#include <stdbool.h>

#include "berth/err.h"

/* Removes dir_fd/name and, when it is a directory, everything below it.
 * A missing name is success. A mount point found on the way (or name
 * itself being one) fails the call with EBUSY (EXDEV when the mount
 * appeared while walking) and err naming the path below name that was
 * refused; what was already removed stays removed. err may be NULL. */
int berth_rmtree_at(int dir_fd, const char *name, struct berth_err *err);

/* Entries of a directory that berth_rmtree_children keeps. */
typedef bool (*berth_rmtree_keep_fn)(void *data, const char *name, bool is_dir);

/* Removes everything inside the directory dir_fd, not the directory
 * itself, except the entries keep (may be NULL) returns true for; same
 * rules and errors as berth_rmtree_at. */
int berth_rmtree_children(int dir_fd, berth_rmtree_keep_fn keep, void *data, struct berth_err *err);

/* Opens the directory dir_fd/name (O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC)
 * for a walk that must stay on one mount: -EBUSY when it is a mount point,
 * -EXDEV when one appears there meanwhile, -ELOOP/-ENOTDIR for a symlink. */
int berth_open_dir_nomount(int dir_fd, const char *name);

#endif
