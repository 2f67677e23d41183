#include "ctl/services.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace postern::ctl {
namespace {

std::vector<uint16_t> smtpd_ports(const Config& c) {
    return {c.smtpd.mx_port, c.smtpd.submission_port, c.smtpd.smtps_port};
}
std::vector<uint16_t> pop3d_ports(const Config& c) { return {c.pop3d.port, c.pop3d.tls_port}; }
std::vector<uint16_t> imapd_ports(const Config& c) { return {c.imapd.port, c.imapd.tls_port}; }
std::vector<uint16_t> no_ports(const Config&) { return {}; }

constexpr Service kServices[] = {
    {"smtpd", smtpd_ports},
    {"pop3d", pop3d_ports},
    {"imapd", imapd_ports},
    {"spoold", no_ports},
};

}  // namespace

std::span<const Service> all_services() { return kServices; }

std::expected<std::vector<const Service*>, std::string> resolve_services(
    const std::vector<std::string>& names) {
    std::vector<const Service*> out;
    if (names.empty()) {
        for (const auto& s : kServices) out.push_back(&s);
        return out;
    }
    for (const auto& n : names) {
        auto it = std::find_if(std::begin(kServices), std::end(kServices),
                               [&](const Service& s) { return s.name == n; });
        if (it == std::end(kServices))
            return std::unexpected("unknown service " + n + " (one of smtpd pop3d imapd spoold)");
        if (std::find(out.begin(), out.end(), &*it) == out.end()) out.push_back(&*it);
    }
    return out;
}

std::filesystem::path libexec_dir() {
    if (const char* env = std::getenv("POSTERN_LIBEXEC"); env && *env) return env;
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return ".";
    return self.parent_path();
}

std::filesystem::path pid_file(const Config& c, const Service& s) {
    return c.run_dir / (std::string(s.name) + ".pid");
}

std::filesystem::path log_file(const Config& c, const Service& s) {
    return c.log_dir / (std::string(s.name) + ".log");
}

std::string port_list(const std::vector<uint16_t>& ports) {
    std::string out;
    for (auto p : ports) out += (out.empty() ? "" : ",") + std::to_string(p);
    return out;
}

}  // namespace postern::ctl
