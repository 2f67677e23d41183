#pragma once
// [pop3d]: the POP3 daemon's settings (pop3d/main.cc fills the engine's session settings).

#include <cstdint>

#include "libproto/config/config_section.h"

namespace postern {

struct Pop3dConfig {
    uint16_t port = 110;
    uint16_t tls_port = 995;
    bool allow_plaintext_auth = false;  // USER/PASS, AUTH PLAIN without TLS
    bool allow_plaintext_on_loopback = false;
    bool allow_concurrent_sessions = false;  // false: second session gets [IN-USE]
    uint32_t idle_timeout_seconds = 600;     // RFC 1939: at least 10 minutes
    uint32_t max_auth_failures = 3;
    uint32_t max_connections = 500;
    uint32_t max_connections_per_ip = 20;
};

void parse_pop3d(ConfigTable& t, Pop3dConfig& c);
void claim_pop3d_ports(const Pop3dConfig& c, PortClaims& ports);
inline constexpr ConfigSection<Pop3dConfig> pop3d_section{"pop3d", parse_pop3d, claim_pop3d_ports};

}  // namespace postern
