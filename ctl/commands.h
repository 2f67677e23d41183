#pragma once
// Every mailctl command. Each returns the process exit code (see ctl.h) and reports
// problems itself, one line each on stderr.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace postern::ctl {

struct InitOptions {
    std::filesystem::path dir;
    std::optional<uint32_t> port_base;  // none: the standard ports
    std::string hostname;               // empty: this machine's name (else "localhost")
    std::string listen = "0.0.0.0,::";  // comma-separated addresses
    std::string user;                   // --user: the run user; empty: postern when root
};

// init DIR: a self-contained instance (config, data/queue/run/log dirs, TLS pair). Run as
// root, its files belong to the run user (made if it is the default and missing) or root.
int cmd_init(const InitOptions& opts);

// check: the config loads, its TLS files load and match, its directories exist.
int cmd_check(const Config& config);

// start/stop/restart/status [SERVICE...]; no names = every service.
int cmd_start(const Config& config, const std::vector<std::string>& names);
int cmd_stop(const Config& config, const std::vector<std::string>& names);
int cmd_restart(const Config& config, const std::vector<std::string>& names);
int cmd_status(const Config& config, const std::vector<std::string>& names);

}  // namespace postern::ctl
