#pragma once
// The whole instance configuration (postern.toml) as the daemons and mailctl use it: the
// shared part (libproto/config/instance_config.h: [server], [paths], [tls], [auth], [log])
// plus every daemon's or component's own section, one file each in this folder. The
// protocol engines and the scaffold never see it: daemons copy what an engine needs into
// its session settings (SmtpSessionConfig, ...).

#include <expected>
#include <filesystem>
#include <string>

#include "config/delivery_section.h"
#include "config/imapd_section.h"
#include "config/pop3d_section.h"
#include "config/smtpd_section.h"
#include "config/spoold_section.h"
#include "config/store_section.h"
#include "libproto/config/instance_config.h"

namespace postern {

struct Config : InstanceConfig {
    SmtpdConfig smtpd;
    Pop3dConfig pop3d;
    ImapdConfig imapd;
    SpooldConfig spoold;
    DeliveryConfig delivery;
    StoreConfig store;

    // load_config (what run_daemon calls through DaemonSpec<Config>).
    static std::expected<Config, std::string> load(const std::filesystem::path& file);
};

// Reads and validates a config file. On error returns one line of the form
// "FILE:LINE: what is wrong" (LINE omitted when the file could not be read). The file
// must carry `format = 1` and the [server], [paths] and [tls] settings (an empty or
// truncated file is an error, not a set of defaults).
std::expected<Config, std::string> load_config(const std::filesystem::path& file);

}  // namespace postern
