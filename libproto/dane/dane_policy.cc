// dane_decide: RFC 7672 2.2 and 3.1 as a table.
#include "libproto/dane/dane_policy.h"

#include "libproto/dane/dane_tlsa.h"

namespace postern {

const char* dane_outcome_text(DaneOutcome o) {
    switch (o) {
    case DaneOutcome::not_dane: return "not dane";
    case DaneOutcome::verify: return "dane verify";
    case DaneOutcome::encrypt: return "dane unusable";
    case DaneOutcome::defer: return "dane defer";
    }
    return "?";
}

DaneDecision dane_decide(const DaneInput& in) {
    DaneDecision d;
    auto not_dane = [&](std::string why) {
        if (in.mandatory) {
            d.outcome = DaneOutcome::defer;
            d.why = "dane-only: " + why;
        } else {
            d.outcome = DaneOutcome::not_dane;
            d.why = std::move(why);
        }
        return d;
    };
    if (!in.secure || in.lookup == TlsaLookup::skipped)
        return not_dane("MX or address records not DNSSEC-authenticated");
    switch (in.lookup) {
    case TlsaLookup::temporary:
        // RFC 7672 2.1.1: a failed (or bogus) TLSA lookup makes the host unusable.
        d.outcome = DaneOutcome::defer;
        d.why = "TLSA lookup failed";
        return d;
    case TlsaLookup::none: return not_dane("no TLSA records");
    case TlsaLookup::skipped:
    case TlsaLookup::found: break;
    }
    if (!in.tlsa_authenticated) return not_dane("TLSA records not DNSSEC-authenticated");
    for (const auto& r : in.records)
        if (tlsa_usable_for_smtp(r)) d.records.push_back(r);
    if (!d.records.empty()) {
        d.outcome = DaneOutcome::verify;
        d.why = std::to_string(d.records.size()) + " usable TLSA record" +
                (d.records.size() == 1 ? "" : "s");
        return d;
    }
    if (in.mandatory) {
        d.outcome = DaneOutcome::defer;
        d.why = "dane-only: no usable TLSA records";
        return d;
    }
    // RFC 7672 2.2: TLSA records are published, so TLS is mandatory, but none can
    // authenticate (PKIX-TA/PKIX-EE, unknown parameters, malformed data).
    d.outcome = DaneOutcome::encrypt;
    d.why = "TLSA records present, none usable: TLS without authentication";
    return d;
}

}  // namespace postern
