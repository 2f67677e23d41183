#include "config/pop3d_section.h"

namespace postern {

void parse_pop3d(ConfigTable& t, Pop3dConfig& p) {
    t.port("port", p.port);
    t.port("tls_port", p.tls_port);
    t.boolean("allow_plaintext_auth", p.allow_plaintext_auth);
    t.boolean("allow_plaintext_on_loopback", p.allow_plaintext_on_loopback);
    t.boolean("allow_concurrent_sessions", p.allow_concurrent_sessions);
    t.num("idle_timeout_seconds", p.idle_timeout_seconds, 600, 86400);
    t.num("max_auth_failures", p.max_auth_failures, 1, 1000);
    t.num("max_connections", p.max_connections, 1, 1000000);
    t.num("max_connections_per_ip", p.max_connections_per_ip, 1, 1000000);
}

void claim_pop3d_ports(const Pop3dConfig& p, PortClaims& ports) {
    ports.claim(p.port, "pop3d.port");
    ports.claim(p.tls_port, "pop3d.tls_port");
}

}  // namespace postern
