#pragma once
// What DANE (RFC 7672) makes of one SMTP server, from the DNSSEC status of the answers that
// led to it and its TLSA lookup. Pure: the lookups are spoold's (spoold/dane_hops.h), the
// verification OpenSSL's (spoold/dane_tls.h).
//
//   MX answer and the host's A/AAAA answers authenticated (AD)?  no -> not DANE (2.2)
//   TLSA at _PORT._tcp.HOST:
//     lookup failed (SERVFAIL, timeout, bogus)       -> defer this host (2.1.1, 2.2)
//     NXDOMAIN / NODATA / answer without AD          -> not DANE
//     authenticated, some records usable             -> verify: STARTTLS, a record must match
//     authenticated, none usable (e.g. PKIX 0 and 1) -> encrypt: STARTTLS, no authentication
//                                                       (2.2, 3.1.3)
//   "dane" turns "not DANE" into the pre-DANE policy (may); "dane-only" defers instead, as it
//   does for records that are all unusable (Postfix's dane-only).

#include <cstdint>
#include <string>
#include <vector>

#include "libproto/dns_parse/dns_message.h"  // TlsaRecord

namespace postern {

enum class DaneOutcome : uint8_t {
    not_dane,  // no secure TLSA: the pre-DANE policy (may)
    verify,    // usable TLSA: TLS required, the peer must match one of `records`
    encrypt,   // secure TLSA, none usable: TLS required, not authenticated
    defer,     // this host fails temporarily (`why`): try the next one
};

// The TLSA lookup of one host, as the planner saw it.
enum class TlsaLookup : uint8_t {
    skipped,    // not asked: MX or address answers were not authenticated
    found,      // records in the answer
    none,       // NXDOMAIN or NODATA
    temporary,  // SERVFAIL, timeout, unparsable answer
};

struct DaneInput {
    bool mandatory = false;  // dane-only
    bool secure = false;     // MX (or the configured route) and the address answers had AD
    TlsaLookup lookup = TlsaLookup::skipped;
    bool tlsa_authenticated = false;
    std::vector<TlsaRecord> records;  // as found (any parameters)
};

struct DaneDecision {
    DaneOutcome outcome = DaneOutcome::not_dane;
    std::vector<TlsaRecord> records;  // verify: the usable ones
    std::string why;                  // one line for the log (defer: the reason)
};

DaneDecision dane_decide(const DaneInput& in);

const char* dane_outcome_text(DaneOutcome o);

}  // namespace postern
