#include "config/imapd_section.h"

namespace postern {

void parse_imapd(ConfigTable& t, ImapdConfig& i) {
    t.port("port", i.port);
    t.port("tls_port", i.tls_port);
    t.boolean("allow_plaintext_auth", i.allow_plaintext_auth);
    t.num("idle_timeout_seconds", i.idle_timeout_seconds, 60, 86400);
    t.num("max_connections", i.max_connections, 1, 1000000);
    t.num("max_connections_per_ip", i.max_connections_per_ip, 1, 1000000);
}

void claim_imapd_ports(const ImapdConfig& i, PortClaims& ports) {
    ports.claim(i.port, "imapd.port");
    ports.claim(i.tls_port, "imapd.tls_port");
}

}  // namespace postern
