// start, stop, restart and status of the daemons.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "ctl/pidfile.h"
#include "ctl/services.h"
#include "libproto/net/privileges.h"
#include "libproto/core/safe_files.h"

namespace postern::ctl {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace {

// How long start waits for READY; $POSTERN_READY_TIMEOUT (seconds) overrides it (tests).
std::chrono::seconds ready_timeout() {
    if (const char* env = std::getenv("POSTERN_READY_TIMEOUT"); env && *env) {
        long v = std::strtol(env, nullptr, 10);
        if (v > 0 && v <= 3600) return std::chrono::seconds(v);
    }
    return std::chrono::seconds(20);
}
constexpr auto kPoll = std::chrono::milliseconds(50);
constexpr int kReadyFd = 3;  // the daemon always gets its ready pipe as fd 3

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

std::string name_of(const Service& s) { return std::string(s.name); }

// The last non-empty line of the log written since `offset`, for "it died" reports.
std::string last_log_line(const fs::path& log, std::uintmax_t offset) {
    std::ifstream in(log, std::ios::binary);
    if (!in) return "";
    in.seekg(static_cast<std::streamoff>(offset));
    std::string line, last;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) last = line;
    }
    return last;
}

// Reads the daemon's first line from the ready pipe: "READY", "ERROR reason", or ""
// on EOF (the daemon died). Sets timed_out when the deadline passes first.
std::string read_ready_line(int fd, Clock::time_point deadline, bool& timed_out) {
    std::string got;
    timed_out = false;
    while (got.find('\n') == std::string::npos && got.size() < 4096) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            return got;
        }
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char buf[512];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EOF: every copy of the write end is closed
        got.append(buf, static_cast<size_t>(n));
    }
    if (auto nl = got.find('\n'); nl != std::string::npos) got.resize(nl);
    return got;
}

// In the child: becomes the daemon. Never returns.
[[noreturn]] void exec_daemon(const fs::path& bin, const fs::path& config, int ready_w, int log_fd,
                              int devnull) {
    ::setsid();
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);

    // fd 0 /dev/null, 1 and 2 the log, 3 the ready pipe, nothing else. Each source fd is
    // first moved above 3 so no dup2 below overwrites another source.
    int r = ::fcntl(ready_w, F_DUPFD_CLOEXEC, 10);
    int l = ::fcntl(log_fd, F_DUPFD_CLOEXEC, 10);
    int n = ::fcntl(devnull, F_DUPFD_CLOEXEC, 10);
    if (r < 0 || l < 0 || n < 0 || ::dup2(n, 0) < 0 || ::dup2(l, 1) < 0 || ::dup2(l, 2) < 0 ||
        ::dup2(r, kReadyFd) < 0)
        ::_exit(127);
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, kReadyFd + 1, ~0U, 0) != 0)
#endif
        for (int fd = kReadyFd + 1; fd < 1024; ++fd) ::close(fd);
    if (::chdir("/") != 0) {
        // Harmless: the daemon resolves everything from the absolute config path.
    }
    std::string fdarg = std::to_string(kReadyFd);
    const char* argv[] = {bin.c_str(), "-c", config.c_str(), "--ready-fd", fdarg.c_str(), nullptr};
    ::execv(bin.c_str(), const_cast<char* const*>(argv));
    std::string msg = "ERROR cannot run " + bin.string() + ": " + std::strerror(errno) + "\n";
    ssize_t ignored = ::write(kReadyFd, msg.data(), msg.size());
    (void)ignored;
    ::_exit(127);
}

// Starts one service and waits until it is ready. Returns true on success (or when it
// was already running); prints one line either way.
bool start_one(const Config& c, const Service& s) {
    const auto name = name_of(s);
    const auto pidf = pid_file(c, s);
    auto st = probe_pid_file(pidf);
    if (st.running) {
        std::printf("%s: already running (pid %d)\n", name.c_str(), st.pid);
        return true;
    }
    if (!st.problem.empty()) {
        std::fprintf(stderr, "%s: cannot start: %s %s (remove it)\n", name.c_str(), pidf.c_str(),
                     st.problem.c_str());
        return false;
    }
    const fs::path bin = libexec_dir() / s.name;
    if (::access(bin.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "%s: cannot start: %s: %s\n", name.c_str(), bin.c_str(),
                     std::strerror(errno));
        return false;
    }
    // A run directory made here is the run user's (the daemons create files there after
    // the switch); log/ and the logs stay ours (the daemon gets its log as fds 1 and 2).
    auto who = run_user_for(c);
    const std::optional<RunUser> run_as = who ? *who : std::nullopt;
    for (const auto& [dir, owned] : {std::pair{c.log_dir, false}, std::pair{c.run_dir, true}}) {
        auto made = make_dir(dir, 0750, owned && run_as ? run_as->uid : uid_t(-1),
                             owned && run_as ? run_as->gid : gid_t(-1));
        if (!made) {
            std::fprintf(stderr, "%s: cannot start: %s\n", name.c_str(), made.error().c_str());
            return false;
        }
    }
    const auto logp = log_file(c, s);
    // Opened as root in a directory that may not be root's alone: no symlink, no hard
    // link, only a plain file of ours (or the run user's).
    auto opened = open_plain_file(logp, O_WRONLY | O_APPEND | O_CREAT, 0640,
                                  {::geteuid(), run_as ? run_as->uid : ::geteuid()});
    if (!opened) {
        std::fprintf(stderr, "%s: cannot start: %s\n", name.c_str(), opened.error().c_str());
        return false;
    }
    Fd log_fd(*opened);
    struct stat lst {};
    ::fstat(log_fd.get(), &lst);
    const auto log_offset = static_cast<std::uintmax_t>(lst.st_size);
    Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    int pfd[2];
    if (devnull.get() < 0 || ::pipe2(pfd, O_CLOEXEC) != 0) {
        std::fprintf(stderr, "%s: cannot start: %s\n", name.c_str(), std::strerror(errno));
        return false;
    }
    Fd ready_r(pfd[0]), ready_w(pfd[1]);
    const fs::path config = fs::absolute(c.file);

    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        std::fprintf(stderr, "%s: cannot start: fork: %s\n", name.c_str(), std::strerror(errno));
        return false;
    }
    if (pid == 0) exec_daemon(bin, config, ready_w.get(), log_fd.get(), devnull.get());
    ready_w.reset();

    bool timed_out = false;
    const auto timeout = ready_timeout();
    std::string line = read_ready_line(ready_r.get(), Clock::now() + timeout, timed_out);
    if (line == "READY") {
        auto ports = s.ports(c);
        std::printf("%s: started (pid %d)%s%s\n", name.c_str(), pid, ports.empty() ? "" : " ports ",
                    port_list(ports).c_str());
        return true;
    }
    if (line.rfind("ERROR", 0) == 0) {
        std::string why = line.size() > 6 ? line.substr(6) : "unknown error";
        std::fprintf(stderr, "%s: failed to start: %s\n", name.c_str(), why.c_str());
        // It exits by itself after reporting; reap it if it is quick.
        for (int i = 0; i < 40 && ::waitpid(pid, nullptr, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(kPoll);
        return false;
    }
    if (timed_out) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        std::fprintf(stderr, "%s: not ready after %lld s; killed it (see %s)\n", name.c_str(),
                     static_cast<long long>(timeout.count()), logp.c_str());
        return false;
    }
    // EOF without a word: it died (or closed the pipe and kept running, which is a bug).
    int status = 0;
    std::string how = "exited before it was ready";
    pid_t w = 0;
    for (int i = 0; i < 40 && (w = ::waitpid(pid, &status, WNOHANG)) == 0; ++i)
        std::this_thread::sleep_for(kPoll);
    if (w == pid && WIFEXITED(status))
        how += " (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
    else if (w == pid && WIFSIGNALED(status))
        how += " (killed by signal " + std::to_string(WTERMSIG(status)) + ")";
    else if (w == 0)
        how = "closed its ready pipe without saying READY";
    auto last = last_log_line(logp, log_offset);
    std::fprintf(stderr, "%s: %s%s%s\n", name.c_str(), how.c_str(), last.empty() ? "" : ": ",
                 last.c_str());
    return false;
}

}  // namespace

int cmd_start(const Config& c, const std::vector<std::string>& names) {
    auto svcs = resolve_services(names);
    if (!svcs) return fail(exit_usage, svcs.error());
    bool ok = true;
    for (const auto* s : *svcs) ok = start_one(c, *s) && ok;
    return ok ? exit_ok : exit_failed;
}

int cmd_stop(const Config& c, const std::vector<std::string>& names) {
    auto svcs = resolve_services(names);
    if (!svcs) return fail(exit_usage, svcs.error());

    // Signal every running one first, so their grace periods overlap.
    struct Stopping {
        const Service* svc;
        pid_t pid;
        bool done = false;
    };
    std::vector<Stopping> stopping;
    bool ok = true;
    for (const auto* s : *svcs) {
        auto pidf = pid_file(c, *s);
        auto st = probe_pid_file(pidf);
        if (!st.running) {
            bool removed = remove_stale_pid_file(pidf);
            std::printf("%s: not running%s\n", name_of(*s).c_str(),
                        removed ? " (removed stale pid file)" : "");
            continue;
        }
        // A daemon that holds the lock but has not written its pid yet: give it a moment.
        for (int i = 0; i < 40 && st.running && st.pid == 0; ++i) {
            std::this_thread::sleep_for(kPoll);
            st = probe_pid_file(pidf);
        }
        // The pid comes from a file the daemon's user could rewrite: signal it only if that
        // process holds the lock itself.
        if (st.pid != 0 && !st.pid_verified) {
            std::fprintf(stderr,
                         "%s: pid %d named in %s does not hold its lock; not signalling it\n",
                         name_of(*s).c_str(), st.pid, pidf.c_str());
            ok = false;
            continue;
        }
        if (st.pid == 0 || ::kill(st.pid, SIGTERM) != 0) {
            std::fprintf(stderr, "%s: cannot signal pid %d: %s\n", name_of(*s).c_str(), st.pid,
                         st.pid == 0 ? "no pid in pid file" : std::strerror(errno));
            ok = false;
            continue;
        }
        stopping.push_back({s, st.pid});
    }

    auto wait_all = [&](Clock::time_point deadline) {
        while (true) {
            bool left = false;
            for (auto& st : stopping) {
                if (st.done) continue;
                if (!probe_pid_file(pid_file(c, *st.svc)).running && process_ended(st.pid)) {
                    st.done = true;
                    remove_stale_pid_file(pid_file(c, *st.svc));
                    std::printf("%s: stopped (pid %d)\n", name_of(*st.svc).c_str(), st.pid);
                } else {
                    left = true;
                }
            }
            if (!left || Clock::now() >= deadline) return !left;
            std::this_thread::sleep_for(kPoll);
        }
    };
    auto grace = std::chrono::seconds(c.shutdown_grace_seconds + 5);
    if (!wait_all(Clock::now() + grace)) {
        for (auto& st : stopping) {
            if (st.done) continue;
            std::fprintf(stderr, "%s: still running after %lld s; sending SIGKILL to pid %d\n",
                         name_of(*st.svc).c_str(), static_cast<long long>(grace.count()), st.pid);
            ::kill(st.pid, SIGKILL);
        }
        if (!wait_all(Clock::now() + std::chrono::seconds(5))) {
            for (auto& st : stopping)
                if (!st.done)
                    std::fprintf(stderr, "%s: could not stop pid %d\n", name_of(*st.svc).c_str(),
                                 st.pid);
            ok = false;
        }
    }
    return ok ? exit_ok : exit_failed;
}

int cmd_restart(const Config& c, const std::vector<std::string>& names) {
    if (auto svcs = resolve_services(names); !svcs) return fail(exit_usage, svcs.error());
    int r = cmd_stop(c, names);
    if (r != exit_ok) return r;
    return cmd_start(c, names);
}

int cmd_status(const Config& c, const std::vector<std::string>& names) {
    auto svcs = resolve_services(names);
    if (!svcs) return fail(exit_usage, svcs.error());
    bool all = true;
    for (const auto* s : *svcs) {
        auto st = probe_pid_file(pid_file(c, *s));
        if (st.running) {
            auto ports = s->ports(c);
            std::printf("%s: running (pid %d)%s%s\n", name_of(*s).c_str(), st.pid,
                        ports.empty() ? "" : " ports ", port_list(ports).c_str());
        } else {
            std::printf("%s: stopped\n", name_of(*s).c_str());
            all = false;
        }
    }
    return all ? exit_ok : exit_not_running;
}

}  // namespace postern::ctl
