#pragma once
// Is a daemon running? A daemon holds an flock on its pid file for its whole life, so a
// pid file whose lock is free is stale, whatever pid it names.

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace postern::ctl {

struct PidState {
    bool running = false;
    pid_t pid = 0;            // from the file; 0 when absent, empty or unreadable
    bool stale_file = false;  // the file exists but nobody holds its lock
    // running: the lock on the file is held by `pid` itself. False when the file names a
    // process that does not hold it (a daemon that rewrote its pid file): never signal it.
    bool pid_verified = false;
    std::string problem;  // the path is there but is no plain file (a symlink, a FIFO...)
};

// Looks at the pid file without disturbing a daemon that holds it. Never follows a
// symlink nor blocks on a FIFO.
PidState probe_pid_file(const std::filesystem::path& file);

// Has process `pid` ended (gone, or a zombie)? A daemon gives up its pid file before it
// exits (libuv's pool threads are joined after that), so stop waits for this too.
bool process_ended(pid_t pid);

// Removes a stale pid file (one whose lock is free). Returns true if it did.
bool remove_stale_pid_file(const std::filesystem::path& file);

}  // namespace postern::ctl
