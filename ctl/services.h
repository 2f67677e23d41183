#pragma once
// The four daemons mailctl runs, and where their binaries and pid files are.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace postern::ctl {

struct Service {
    std::string_view name;  // also the binary, pid file (run/NAME.pid) and log (log/NAME.log)
    std::vector<uint16_t> (*ports)(const Config&);
};

// Every service, in start order: smtpd pop3d imapd spoold.
std::span<const Service> all_services();

// The services named (empty: all), in the order given; an unknown name is an error
// ("unknown service NAME (one of smtpd pop3d imapd spoold)"). Duplicates are dropped.
std::expected<std::vector<const Service*>, std::string> resolve_services(
    const std::vector<std::string>& names);

// Where the daemon binaries are: $POSTERN_LIBEXEC, else the directory of mailctl itself.
std::filesystem::path libexec_dir();

std::filesystem::path pid_file(const Config& c, const Service& s);
std::filesystem::path log_file(const Config& c, const Service& s);

// "2525,2587,2465"
std::string port_list(const std::vector<uint16_t>& ports);

}  // namespace postern::ctl
