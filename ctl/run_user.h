#pragma once
// mailctl and the run user (server.user): creating the postern system user for init, and
// checking, in a child process that has dropped to that user, that it can use the
// instance's directories.

#include <expected>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "libproto/config/instance_config.h"
#include "libproto/net/privileges.h"

namespace postern::ctl {

// The user init makes when none is named.
inline constexpr const char* kDefaultRunUser = "postern";

// `name`'s passwd entry; when it does not exist, creates it as a system user (useradd
// --system --user-group --no-create-home --shell /usr/sbin/nologin) and says so on stdout.
// Error: one line.
std::expected<RunUser, std::string> find_or_create_system_user(const std::string& name);

// What `user` must be able to do with a path: access() flags (R_OK, W_OK, X_OK).
using Access = std::pair<std::filesystem::path, int>;

// Checks each access as `user` (in a forked child that drops to it). Returns "" when all
// are allowed, else one line naming the first path `user` cannot use.
std::string check_access_as(const RunUser& user, const std::vector<Access>& wanted);

// For `mailctl check` run as root: the refusal a daemon would give (no unprivileged
// server.user and no allow_root), or the first instance directory (or the config) the run
// user cannot use. Empty when all is well, or when not root.
std::vector<std::string> run_user_problems(const InstanceConfig& config);

}  // namespace postern::ctl
