#include "libproto/net/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace postern {
namespace {

std::string errno_line(const std::string& what) { return what + ": " + std::strerror(errno); }

// After a permanent drop neither setuid(0) nor seteuid(0) may work.
std::expected<void, std::string> check_dropped(const RunUser& u) {
    if (u.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0 || ::geteuid() == 0))
        return std::unexpected("could not drop root privileges");
    return {};
}

}  // namespace

std::expected<RunUser, std::string> find_user(const std::string& name) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    int r = 0;
    while ((r = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (r != 0 || !found) return std::unexpected("no such user: " + name);
    return RunUser{pw.pw_name, pw.pw_uid, pw.pw_gid};
}

std::expected<std::optional<RunUser>, std::string> run_user_for(const InstanceConfig& config) {
    if (::geteuid() != 0) return std::nullopt;  // a developer: everything runs as the caller
    if (!config.run_user.empty()) {
        auto u = find_user(config.run_user);
        if (!u) return std::unexpected("server.user: " + u.error());
        if (u->uid != 0) return std::optional<RunUser>(*u);
    }
    if (config.allow_root) return std::nullopt;
    return std::unexpected(std::string("refusing to run as root: server.user is ") +
                           (config.run_user.empty() ? "empty" : "\"" + config.run_user + "\"") +
                           " (name an unprivileged user, or set server.allow_root = true)");
}

std::expected<void, std::string> drop_to(const RunUser& u) {
    if (::initgroups(u.name.c_str(), u.gid) != 0)
        return std::unexpected(errno_line("initgroups(" + u.name + ")"));
    if (::setgid(u.gid) != 0)
        return std::unexpected(errno_line("setgid(" + std::to_string(u.gid) + ")"));
    if (::setuid(u.uid) != 0)
        return std::unexpected(errno_line("setuid(" + std::to_string(u.uid) + ")"));
    return check_dropped(u);
}

std::expected<void, std::string> PrivilegeDrop::enter() {
    if (!to_) return {};
    const RunUser& u = *to_;
    if (::initgroups(u.name.c_str(), u.gid) != 0)
        return std::unexpected(errno_line("initgroups(" + u.name + ")"));
    if (::setegid(u.gid) != 0)
        return std::unexpected(errno_line("setegid(" + std::to_string(u.gid) + ")"));
    if (::seteuid(u.uid) != 0)
        return std::unexpected(errno_line("seteuid(" + std::to_string(u.uid) + ")"));
    entered_ = true;
    return {};
}

std::expected<void, std::string> PrivilegeDrop::finish() {
    if (!to_) return {};
    if (!entered_) return drop_to(*to_);
    // Setting all three ids to the current effective ones needs no privilege, so root never
    // comes back, not even for a moment: setup may have started thread-pool work (spoold's
    // first deliveries) that would create root's files in that moment.
    const RunUser& u = *to_;
    if (::setresgid(u.gid, u.gid, u.gid) != 0) return std::unexpected(errno_line("setresgid"));
    if (::setresuid(u.uid, u.uid, u.uid) != 0) return std::unexpected(errno_line("setresuid"));
    entered_ = false;
    return check_dropped(u);
}

PrivilegeDrop::RootScope::RootScope(const PrivilegeDrop* p) : p_(p->entered_ ? p : nullptr) {
    // Failing leaves us as the run user: the bind that needed root then reports EACCES.
    if (p_ && ::seteuid(0) != 0) p_ = nullptr;
}

PrivilegeDrop::RootScope::~RootScope() {
    // Failing to give root back would leave setup running as root: stop rather than serve.
    if (p_ && ::seteuid(p_->to_->uid) != 0) ::_exit(1);
}

}  // namespace postern
