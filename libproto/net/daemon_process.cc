// Process-level pieces of the daemon scaffold: the pid file lock (the privilege drop is
// libproto/net/privileges.cc).
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libproto/net/daemon.h"
#include "libproto/core/safe_files.h"

namespace postern {

// The lock is held through a read-only descriptor (flock does not need write access) and
// the pid is written through a second one, closed at once: after the privilege drop the
// daemon holds no descriptor that could rewrite the pid that root's `mailctl stop` reads.
std::expected<int, std::string> acquire_pid_file(const std::string& path) {
    auto fd = open_plain_file(path, O_RDONLY | O_CREAT, 0644, {::geteuid()});
    if (!fd) return std::unexpected(fd.error());
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = {};
        ssize_t n = pread(*fd, buf, sizeof buf - 1, 0);
        ::close(*fd);
        if (err == EWOULDBLOCK) {
            long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
            return std::unexpected("already running (pid " + std::to_string(pid) + ")");
        }
        return std::unexpected(path + ": cannot lock: " + std::strerror(err));
    }
    auto wfd = open_plain_file(path, O_WRONLY, 0644, {::geteuid()});
    if (!wfd) {
        ::close(*fd);
        return std::unexpected(wfd.error());
    }
    struct stat a {
    }, b{};
    std::string pid = std::to_string(getpid()) + "\n";
    bool ok = ::fstat(*fd, &a) == 0 && ::fstat(*wfd, &b) == 0 && a.st_dev == b.st_dev &&
              a.st_ino == b.st_ino;  // the same file, not one swapped in meanwhile
    int err = ok ? 0 : EXDEV;
    if (ok && (ftruncate(*wfd, 0) != 0 ||
               pwrite(*wfd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))) {
        ok = false;
        err = errno;
    }
    ::close(*wfd);
    if (!ok) {
        ::close(*fd);
        return std::unexpected(path + ": cannot write: " +
                               (err == EXDEV ? "replaced while opening it" : std::strerror(err)));
    }
    return *fd;
}

}  // namespace postern
