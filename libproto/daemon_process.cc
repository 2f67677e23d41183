// Process-level pieces of the daemon scaffold: pid file lock, privilege drop.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>
#include <vector>

#include "libproto/daemon.h"

namespace postern {

std::expected<int, std::string> acquire_pid_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(path + ": cannot open: " + std::strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = {};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        if (err == EWOULDBLOCK) {
            long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
            return std::unexpected("already running (pid " + std::to_string(pid) + ")");
        }
        return std::unexpected(path + ": cannot lock: " + std::strerror(err));
    }
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        int err = errno;
        ::close(fd);
        return std::unexpected(path + ": cannot write: " + std::strerror(err));
    }
    return fd;
}

std::expected<void, std::string> drop_privileges(const std::string& user) {
    if (user.empty() || geteuid() != 0) return {};
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    int r = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (r != 0 || !found)
        return std::unexpected("server.user: no such user: " + user);
    if (initgroups(pw.pw_name, pw.pw_gid) != 0)
        return std::unexpected("initgroups(" + user + "): " + std::strerror(errno));
    if (setgid(pw.pw_gid) != 0)
        return std::unexpected("setgid(" + std::to_string(pw.pw_gid) + "): " + std::strerror(errno));
    if (setuid(pw.pw_uid) != 0)
        return std::unexpected("setuid(" + std::to_string(pw.pw_uid) + "): " + std::strerror(errno));
    if (pw.pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0))
        return std::unexpected("could not drop root privileges");
    return {};
}

}  // namespace postern
