#ifndef GANTRY_CPROCESSSPAWN_H
#define GANTRY_CPROCESSSPAWN_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, so concurrent spawns cannot inherit them.
int gantry_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+), which needs _GNU_SOURCE to be declared.
int gantry_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child keeps only descriptors below
/// `from`, so a step never inherits a server's listening socket or a database file.
int gantry_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// copy_file_range(2) of a whole file from the current offsets: the kernel copies (or, on btrfs and
/// XFS, shares) the extents. Returns bytes copied, or -1.
long gantry_copy_file_range(int in, int out, unsigned long length);

/// copy_file_range(2) between explicit offsets (which it advances), leaving the files' own offsets
/// alone, so threads may copy into one file at once. Returns bytes copied, 0 at the input's end, or -1.
long gantry_copy_file_range_at(int in, long long *in_offset, int out, long long *out_offset, unsigned long length);

#endif
