#pragma once
// TLSA records for DANE SMTP (RFC 6698 2.1, RFC 7671, RFC 7672): the strict RDATA parser and
// what SMTP may use. Pure: no sockets, no OpenSSL; a fuzzer links only this.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "libproto/dns_parse/dns_message.h"  // TlsaRecord

namespace postern {

namespace tlsa_usage {
inline constexpr uint8_t pkix_ta = 0;  // not used for SMTP (RFC 7672 3.1.3)
inline constexpr uint8_t pkix_ee = 1;  // not used for SMTP (RFC 7672 3.1.3)
inline constexpr uint8_t dane_ta = 2;
inline constexpr uint8_t dane_ee = 3;
}  // namespace tlsa_usage

enum class TlsaError : uint8_t {
    short_rdata,    // under 3 bytes: no usage, selector and matching type
    no_data,        // no certificate association data (RFC 6698 2.1.4 requires some)
    digest_length,  // SHA2-256 data not 32 bytes, SHA2-512 not 64 (RFC 6698 2.1.3)
};
const char* tlsa_error_text(TlsaError e);

// TLSA RDATA (RFC 6698 2.1): usage, selector, matching type, data. Unknown parameter values
// parse (they are unusable, not malformed: RFC 7671 4); a known digest of the wrong length
// does not.
std::expected<TlsaRecord, TlsaError> parse_tlsa(std::string_view rdata);

// Usable by an SMTP client (RFC 7672 3.1): DANE-TA(2) or DANE-EE(3), selector Cert(0) or
// SPKI(1), matching Full(0), SHA2-256(1) or SHA2-512(2), well-formed data.
bool tlsa_usable_for_smtp(const TlsaRecord& r);

// "3 1 1 2f7a...9c" for logs: the parameters and the data in hex, cut to 16 digits + "...".
std::string tlsa_text(const TlsaRecord& r);

}  // namespace postern
