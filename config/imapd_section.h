#pragma once
// [imapd]: the IMAP daemon's settings.

#include <cstdint>

#include "libproto/config/config_section.h"

namespace postern {

struct ImapdConfig {
    uint16_t port = 143;
    uint16_t tls_port = 993;
    bool allow_plaintext_auth = false;
    uint32_t idle_timeout_seconds = 1800;  // RFC 9051: at least 30 minutes
    uint32_t max_connections = 1000;
    uint32_t max_connections_per_ip = 50;
};

void parse_imapd(ConfigTable& t, ImapdConfig& c);
void claim_imapd_ports(const ImapdConfig& c, PortClaims& ports);
inline constexpr ConfigSection<ImapdConfig> imapd_section{"imapd", parse_imapd, claim_imapd_ports};

}  // namespace postern
