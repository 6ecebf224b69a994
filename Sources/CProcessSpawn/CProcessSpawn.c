#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include "CProcessSpawn.h"

int gantry_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int gantry_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int gantry_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

long gantry_copy_file_range(int in, int out, unsigned long length) {
    return (long)copy_file_range(in, NULL, out, NULL, length, 0);
}

long gantry_copy_file_range_at(int in, long long *in_offset, int out, long long *out_offset, unsigned long length) {
    loff_t input = (loff_t)*in_offset, output = (loff_t)*out_offset;
    long copied = (long)copy_file_range(in, &input, out, &output, length, 0);
    *in_offset = (long long)input;
    *out_offset = (long long)output;
    return copied;
}
