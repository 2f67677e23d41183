#include "ctl/run_user.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace postern::ctl {
namespace {

// Runs `argv` with stdin from /dev/null and stdout+stderr captured. Returns the exit status
// (-1 when it could not run) and sets `output` to its first line.
int run_capture(const std::vector<std::string>& argv, std::string& output) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(p[0]);
        ::close(p[1]);
        return -1;
    }
    if (pid == 0) {
        ::dup2(p[1], 1);
        ::dup2(p[1], 2);
        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(p[1]);
    std::string all;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && all.size() < 4096) all.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    output = all.substr(0, all.find('\n'));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

std::expected<RunUser, std::string> find_or_create_system_user(const std::string& name) {
    if (auto u = find_user(name)) return *u;
    std::string out;
    int rc = -1;
    // Two inits at once (tests run in parallel) race for the user and the passwd lock: the
    // loser finds the user made by the winner, or tries again after a moment.
    for (int attempt = 0; attempt < 10; ++attempt) {
        rc = run_capture({"useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                          "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
                          "Postern mail server", name},
                         out);
        if (auto u = find_user(name)) {
            if (rc == 0) std::printf("created system user %s\n", name.c_str());
            return *u;
        }
        if (rc == 127 || rc < 0) break;  // no useradd: retrying will not help
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + 100 * attempt));
    }
    return std::unexpected("cannot create the system user " + name + " (useradd exit " +
                           std::to_string(rc) + (out.empty() ? "" : ": " + out) +
                           "); create it, or name another with --user");
}

std::string check_access_as(const RunUser& user, const std::vector<Access>& wanted) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(p[0]);
        ::close(p[1]);
        return std::string("fork: ") + std::strerror(errno);
    }
    if (pid == 0) {
        ::close(p[0]);
        std::string msg;
        if (auto r = drop_to(user); !r) {
            msg = r.error();
        } else {
            for (const auto& [path, mode] : wanted) {
                if (::access(path.c_str(), mode) == 0) continue;
                const char* what = (mode & W_OK) ? "write to" : (mode & R_OK) ? "read" : "reach";
                msg = path.string() + ": the run user " + user.name + " cannot " + what + " it (" +
                      std::strerror(errno) + "; is a parent directory closed to it?)";
                break;
            }
        }
        ssize_t ignored = ::write(p[1], msg.data(), msg.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(p[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) msg.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (msg.empty() && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        msg = "cannot check the access of the run user " + user.name;
    return msg;
}

std::vector<std::string> run_user_problems(const InstanceConfig& c) {
    auto who = run_user_for(c);
    if (!who) return {c.file.string() + ": " + who.error()};
    if (!*who) return {};
    std::vector<Access> wanted{{c.file, R_OK}};  // SIGHUP re-reads it as the run user
    for (const auto& dir : {c.data_dir, c.queue_dir, c.run_dir}) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) wanted.push_back({dir, R_OK | W_OK | X_OK});
    }
    if (auto why = check_access_as(**who, wanted); !why.empty()) return {why};
    return {};
}

}  // namespace postern::ctl
