#ifndef GANTRY_CPROCESSSPAWN_H
#define GANTRY_CPROCESSSPAWN_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, so concurrent spawns cannot inherit them.
int gantry_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+), which needs _GNU_SOURCE to be declared.
int gantry_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
