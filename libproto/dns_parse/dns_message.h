#pragma once
// A DNS response message, parsed (RFC 1035 section 4): the header flags the
// daemons need (rcode, AD, TC), the answer records and the SOA of a negative
// answer. Pure: no sockets, no c-ares; a fuzzer links only this.
//
// c-ares 1.18 (Debian 12) has no record API (ares_dns_record_t is 1.22+), and
// its ares_parse_*_reply functions drop the TTL of MX records, the AD bit and
// the SOA of negative answers, so answers are parsed here.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

namespace dns_type {
inline constexpr uint16_t a = 1;
inline constexpr uint16_t ns = 2;
inline constexpr uint16_t cname = 5;
inline constexpr uint16_t soa = 6;
inline constexpr uint16_t ptr = 12;
inline constexpr uint16_t mx = 15;
inline constexpr uint16_t txt = 16;
inline constexpr uint16_t aaaa = 28;
inline constexpr uint16_t tlsa = 52;
}  // namespace dns_type

namespace dns_rcode {
inline constexpr uint8_t noerror = 0;
inline constexpr uint8_t formerr = 1;
inline constexpr uint8_t servfail = 2;
inline constexpr uint8_t nxdomain = 3;
inline constexpr uint8_t notimp = 4;
inline constexpr uint8_t refused = 5;
}  // namespace dns_rcode

// One resource record. Names are lower-case, without the trailing dot ("" is
// the root). `target` is set for CNAME, NS, PTR and MX (the exchange);
// `rdata` always holds the raw RDATA bytes (A: 4 bytes, AAAA: 16, TXT and TLSA
// as on the wire).
struct DnsRecord {
    std::string name;
    uint16_t type = 0;
    uint32_t ttl = 0;
    uint16_t preference = 0;  // MX only
    std::string target;
    std::string rdata;
    bool operator==(const DnsRecord&) const = default;
};

struct DnsMessage {
    uint16_t id = 0;
    uint8_t rcode = 0;
    bool authenticated = false;  // AD: the (validating) resolver checked DNSSEC
    bool truncated = false;      // TC
    std::string qname;           // of the first question, lower-case, no dot
    uint16_t qtype = 0;
    std::vector<DnsRecord> answers;
    // RFC 2308 section 5: a negative answer lives min(SOA TTL, SOA MINIMUM)
    // seconds; set when the authority section holds an SOA.
    std::optional<uint32_t> negative_ttl;
};

enum class DnsParseError : uint8_t {
    short_message,  // ended inside the header, a name or a record
    bad_name,       // label over 63, name over 255, bad label type, pointer loop
    bad_rdata,      // RDATA shorter than its type needs (A not 4 bytes, ...)
    not_response,   // QR bit clear
};
const char* dns_parse_error_text(DnsParseError e);

// Parses a whole message (at most 65535 bytes: TCP's limit).
std::expected<DnsMessage, DnsParseError> parse_dns_message(std::string_view wire);

// The records of `type` for `name`, following CNAMEs from `name` inside the
// answer section (at most 8 links, loops stop). `ttl` is the smallest TTL on
// the path (the CNAMEs' included); `canonical` the name the chain ended at.
struct DnsRecordSet {
    std::vector<const DnsRecord*> records;
    std::string canonical;
    uint32_t ttl = 0;
};
DnsRecordSet records_for(const DnsMessage& m, std::string_view name, uint16_t type);

// "192.0.2.1" / "2001:db8::1" from an A or AAAA record; empty for any other.
std::string address_text(const DnsRecord& r);

// TXT RDATA: the character-strings joined (RFC 7208 3.3 and RFC 8461 3.1 join
// them without separator). nullopt when a length runs past the RDATA.
std::optional<std::string> txt_text(std::string_view rdata);

// TLSA RDATA (RFC 6698 section 2.1).
struct TlsaRecord {
    uint8_t usage = 0;
    uint8_t selector = 0;
    uint8_t matching = 0;
    std::string data;  // certificate association data, raw bytes
    bool operator==(const TlsaRecord&) const = default;
};
std::optional<TlsaRecord> tlsa_record(std::string_view rdata);

// Lower-cases and strips one trailing dot: the form names are compared in.
std::string dns_name_key(std::string_view name);

}  // namespace postern
