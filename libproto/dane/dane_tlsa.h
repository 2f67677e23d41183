#pragma once
// TLSA records for DANE SMTP (RFC 6698 2.1, RFC 7671, RFC 7672): what SMTP may use. The RDATA
// parser is dns_parse's tlsa_record (it keeps every record of 3 bytes or more, so malformed
// ones count as present but unusable). Pure: no sockets, no OpenSSL; a fuzzer links only this.

#include <cstdint>
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

// Usable by an SMTP client (RFC 7672 3.1): DANE-TA(2) or DANE-EE(3), selector Cert(0) or
// SPKI(1), matching Full(0), SHA2-256(1) or SHA2-512(2), well-formed data (some; a digest
// of its length, RFC 6698 2.1.3).
bool tlsa_usable_for_smtp(const TlsaRecord& r);

// "3 1 1 2f7a...9c" for logs: the parameters and the data in hex, cut to 16 digits + "...".
std::string tlsa_text(const TlsaRecord& r);

}  // namespace postern
