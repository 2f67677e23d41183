#pragma once
// DANE verification of one outbound TLS connection with OpenSSL's DANE API (RFC 7671,
// RFC 7672 3.1): the records come from the planner (spoold/dane_hops.h), the check is
// OpenSSL's, during the handshake. SmtpClientConnection arms it right after the ClientHello
// (the certificate arrives on a later loop turn, as for SSL_set1_host).
//
//   DANE-EE(3): the leaf (or its key) must match; names and dates are not checked (3.1.1).
//   DANE-TA(2): the chain must lead to the matching trust anchor and the leaf must name the
//               TLSA base domain, the MX host name (3.2.2); the system trust store is not used.
//
// A peer that matches no record fails the handshake (SSL_VERIFY_PEER): the transport tries
// the next address, then the next MX.

#include <expected>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "libproto/dns_parse/dns_message.h"  // TlsaRecord

namespace postern {

struct DaneTls {
    std::string base;                 // the TLSA base domain: the MX (or route) host name
    std::vector<TlsaRecord> records;  // usable ones only (tlsa_usable_for_smtp)
};

// SSL_CTX_dane_enable (idempotent: a second call does nothing). False when OpenSSL refuses.
bool dane_enable_context(SSL_CTX* ctx);

// SSL_dane_enable with `d.base`, the records added, DANE-EE name checks off, peer
// verification on. Error text when no record could be added.
std::expected<void, std::string> dane_arm(SSL* ssl, const DaneTls& d);

// After the handshake: "TLSA 3 1 1 matched at depth 0", or empty when no record matched.
std::string dane_match_text(SSL* ssl);

}  // namespace postern
