#include "ctl/pidfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

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

// Does `pid` hold the flock on the file `st` describes? /proc/locks names the process that
// took each lock ("1: FLOCK  ADVISORY  WRITE 1234 fe:00:10953566 0 EOF"). When the file
// has no line there (a file system that reports other numbers), fall back to asking
// whether `pid` has the file open at all.
enum class Holder { yes, no, unknown };

Holder lock_holder_is(pid_t pid, const struct stat& st) {
    std::ifstream locks("/proc/locks");
    std::string line;
    bool seen = false;
    while (std::getline(locks, line)) {
        char kind[16], type[16], mode[16];
        long holder = 0;
        unsigned maj = 0, min = 0;
        uintmax_t ino = 0;
        if (line.find("->") != std::string::npos) continue;  // a waiter, not the holder
        if (std::sscanf(line.c_str(), "%*d: %15s %15s %15s %ld %x:%x:%ju", kind, type, mode,
                        &holder, &maj, &min, &ino) != 7)
            continue;
        if (std::strcmp(kind, "FLOCK") != 0 || maj != major(st.st_dev) || min != minor(st.st_dev) ||
            ino != static_cast<uintmax_t>(st.st_ino))
            continue;
        if (holder == pid) return Holder::yes;
        seen = true;
    }
    return seen ? Holder::no : Holder::unknown;
}

bool has_open(pid_t pid, const struct stat& st) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return false;
    bool found = false;
    while (dirent* e = ::readdir(d)) {
        struct stat s {};
        if (e->d_name[0] != '.' && ::stat((dir + "/" + e->d_name).c_str(), &s) == 0 &&
            s.st_dev == st.st_dev && s.st_ino == st.st_ino) {
            found = true;
            break;
        }
    }
    ::closedir(d);
    return found;
}

bool verified_holder(pid_t pid, int fd) {
    struct stat st {};
    if (pid <= 0 || ::fstat(fd, &st) != 0) return false;
    switch (lock_holder_is(pid, st)) {
    case Holder::yes: return true;
    case Holder::no: return false;
    case Holder::unknown: return has_open(pid, st);
    }
    return false;
}

}  // namespace

PidState probe_pid_file(const std::filesystem::path& file) {
    PidState st;
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ELOOP)
            st.problem = "is a symbolic link";
        else if (errno != ENOENT)
            st.problem = std::strerror(errno);
        return st;
    }
    struct stat sb {};
    if (::fstat(fd.get(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st.problem = "is not a plain file";
        return st;
    }
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
    if (st.running) st.pid_verified = verified_holder(st.pid, fd.get());
    return st;
}

bool process_ended(pid_t pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return true;
    auto paren = stat.rfind(')');
    return paren == std::string::npos || stat.compare(paren, 3, ") Z") == 0;
}

bool remove_stale_pid_file(const std::filesystem::path& file) {
    auto st = probe_pid_file(file);
    if (!st.stale_file) return false;
    return ::unlink(file.c_str()) == 0;
}

}  // namespace postern::ctl
