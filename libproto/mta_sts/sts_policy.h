#pragma once
// MTA-STS (RFC 8461), the pure half: the policy file served at
// https://mta-sts.<domain>/.well-known/mta-sts.txt (section 3.2), the `_mta-sts.<domain>` TXT
// record (section 3.1) and MX matching (section 4.1). No I/O, no clock: spoold's MtaSts
// (spoold/mta_sts.h) fetches, caches and applies what these return.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

enum class StsMode : uint8_t { none, testing, enforce };

struct StsPolicy {
    StsMode mode = StsMode::none;
    std::vector<std::string> mx;  // lower-case patterns, "mail.example.com" or "*.example.com"
    uint32_t max_age = 0;         // seconds, at most kStsMaxAge
    bool operator==(const StsPolicy&) const = default;
};

inline constexpr size_t kStsPolicyMaxBytes = 64 * 1024;  // RFC 8461 3.3: 64 KB is plenty
inline constexpr uint32_t kStsMaxAge = 31557600;         // RFC 8461 3.2: about one year
inline constexpr size_t kStsMaxMx = 256;                 // mx lines kept; more: invalid

// The policy file: "key: value" lines ending in CRLF or LF (the last one may lack it),
// `version: STSv1`, `mode: enforce|testing|none`, `max_age: 1*10DIGIT` (capped at kStsMaxAge),
// `mx: [*.]domain` (one or more, unless mode is none). Keys are case-sensitive as in the
// RFC's ABNF; unknown keys are ignored; blank lines are skipped; a second version, mode or
// max_age, a line without ':', a bad key name or a body over kStsPolicyMaxBytes makes the
// policy invalid. The error is one line for the log.
std::expected<StsPolicy, std::string> parse_sts_policy(std::string_view body);

// RFC 8461 4.1: `host` (an MX name, any case, maybe with a trailing dot) equals `pattern`,
// or `pattern` is "*.rest" and `host` is one label followed by ".rest" (the wildcard covers
// exactly one leftmost label: "*.example.com" matches "mx.example.com", not "example.com"
// nor "a.b.example.com").
bool sts_mx_pattern_matches(std::string_view pattern, std::string_view host);
// Some pattern of `p` matches `host`.
bool sts_mx_matches(const StsPolicy& p, std::string_view host);

struct StsRecord {
    std::string id;  // 1..32 letters and digits: a new id means a new policy
    bool operator==(const StsRecord&) const = default;
};

// One TXT record's text (its strings joined): "v=STSv1" first, then ';'-separated fields
// with optional spaces and tabs around the ';', exactly one `id=`, unknown `name=value`
// fields ignored, an optional trailing ';'.
std::expected<StsRecord, std::string> parse_sts_record(std::string_view txt);

// RFC 8461 3.1: of the TXT records at _mta-sts.<domain>, those not starting with "v=STSv1"
// are discarded; exactly one must remain and parse, else the domain has no usable record.
std::expected<StsRecord, std::string> select_sts_record(const std::vector<std::string>& txts);

const char* sts_mode_name(StsMode m);  // "none", "testing", "enforce"

}  // namespace postern
