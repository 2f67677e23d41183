#pragma once
// The per-instance secret: 32 random bytes (hex) that `mailctl init` writes to
// DATA/instance-secret (mode 0600, the run user's). Every daemon derives the fake SCRAM
// salts and keys of unknown users from it, so smtpd, pop3d and imapd answer an unknown
// login alike and the same across restarts: a prober cannot tell which users exist by
// comparing daemons or restarts.

#include <expected>
#include <filesystem>
#include <string>

#include "libproto/config/instance_config.h"

namespace postern {

inline constexpr const char* instance_secret_name = "instance-secret";

// DATA/instance-secret of this instance.
std::filesystem::path instance_secret_path(const InstanceConfig& config);

// A fresh secret's file text: 64 hex digits and a newline.
std::string make_instance_secret();

// Reads the secret (run as the run user). Error: one line naming the file, e.g.
// "/var/lib/postern/instance-secret: cannot read: No such file or directory (mailctl init
// makes it)".
std::expected<std::string, std::string> read_instance_secret(const InstanceConfig& config);

}  // namespace postern
