#pragma once
// Creating directories and opening files as root in places another user may write to
// (an instance's run/ and log/): modes that do not depend on the umask, no symlinks
// followed, and only plain files of an expected owner.

#include <sys/types.h>

#include <expected>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

namespace postern {

// Creates `dir` unless it is already a directory (missing parents get mode 0755 and the
// caller as owner). A directory it creates gets exactly `mode` and, unless uid is -1, the
// owner uid:gid. Returns true if it created `dir`. Error: one line naming the path.
std::expected<bool, std::string> make_dir(const std::filesystem::path& dir, mode_t mode,
                                          uid_t uid = static_cast<uid_t>(-1),
                                          gid_t gid = static_cast<gid_t>(-1));

// Opens `path` with `flags` (O_CREAT allowed, `mode` then exact) without following a
// symlink or blocking on a FIFO, and checks that it is a plain file with one link owned by
// one of `owners`. Returns the fd (O_CLOEXEC). Error: one line naming the path.
std::expected<int, std::string> open_plain_file(const std::filesystem::path& path, int flags,
                                                mode_t mode, std::initializer_list<uid_t> owners);

// Replaces `path` with `text`: written to `path`.tmp (exact `mode`, owned by the caller; a
// leftover of a crash is removed first), fsynced, renamed over `path`, the directory
// fsynced. A crash leaves the old file or the new one. Error: one line naming the path.
std::expected<void, std::string> write_file_atomically(const std::filesystem::path& path,
                                                       std::string_view text, mode_t mode);

}  // namespace postern
