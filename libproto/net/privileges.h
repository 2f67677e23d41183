#pragma once
// Who a process serves as. A daemon started as root becomes server.user in two steps:
// enter() takes the user's groups, gid and effective uid, so everything it opens or creates
// from then on (stores, queue, sockets) is checked and owned as that user, and root stays
// only in the saved uid so that a RootScope can bind low ports; finish() then makes the
// change permanent. mailctl's store commands drop at once with drop_to().

#include <sys/types.h>

#include <expected>
#include <optional>
#include <string>

#include "libproto/config/instance_config.h"

namespace postern {

struct RunUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The passwd entry of `name`. Error: "no such user: NAME".
std::expected<RunUser, std::string> find_user(const std::string& name);

// Whom a process started with `config` must become: nullopt to stay as it is (not root;
// or root with server.allow_root and no unprivileged server.user). Error, one line: root
// with no unprivileged server.user and no allow_root, or server.user does not exist.
std::expected<std::optional<RunUser>, std::string> run_user_for(const InstanceConfig& config);

// Drops to `user` for good at once (groups, gid, uid) and checks root cannot come back.
std::expected<void, std::string> drop_to(const RunUser& user);

class PrivilegeDrop {
public:
    explicit PrivilegeDrop(std::optional<RunUser> to) : to_(std::move(to)) {}

    // Groups, gid and euid become the run user's (root stays saved). Nothing without a user.
    std::expected<void, std::string> enter();
    // Real, effective and saved ids become the run user's; checks root cannot come back.
    std::expected<void, std::string> finish();

    // While it lives, the effective uid is root again (between enter() and finish()).
    // Thread-pool work running meanwhile would act as root too: bind before starting any.
    class RootScope {
    public:
        explicit RootScope(const PrivilegeDrop* p);
        ~RootScope();
        RootScope(const RootScope&) = delete;
        RootScope& operator=(const RootScope&) = delete;

    private:
        const PrivilegeDrop* p_;
    };
    RootScope as_root() const { return RootScope(this); }

private:
    std::optional<RunUser> to_;
    bool entered_ = false;
};

}  // namespace postern
