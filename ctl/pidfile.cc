#include "ctl/pidfile.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace postern::ctl {
namespace {

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

pid_t read_pid(int fd) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    char* end = nullptr;
    long v = std::strtol(buf, &end, 10);
    if (end == buf || v <= 0 || v > 0x3fffffff) return 0;
    return static_cast<pid_t>(v);
}

// True when some process holds a lock on the file: flock (what the daemons use) or,
// just in case, a POSIX record lock.
bool locked(int fd) {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return errno == EWOULDBLOCK || errno == EINTR;
    ::flock(fd, LOCK_UN);
    struct flock fl = {};
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) return true;
    return false;
}

}  // namespace

PidState probe_pid_file(const std::filesystem::path& file) {
    PidState st;
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) return st;
    st.pid = read_pid(fd.get());
    // A named pid that is gone means stale without touching the lock: a daemon starting
    // right now must never find its lock taken by our probe.
    if (st.pid > 0 && ::kill(st.pid, 0) != 0 && errno == ESRCH) {
        st.stale_file = true;
        return st;
    }
    st.running = locked(fd.get());
    st.stale_file = !st.running;
    if (st.running && st.pid == 0) st.pid = read_pid(fd.get());  // it may just have written it
    return st;
}

bool remove_stale_pid_file(const std::filesystem::path& file) {
    auto st = probe_pid_file(file);
    if (!st.stale_file) return false;
    return ::unlink(file.c_str()) == 0;
}

}  // namespace postern::ctl
