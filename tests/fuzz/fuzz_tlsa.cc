// fuzz_tlsa: arbitrary bytes as TLSA RDATA (dns_parse's tlsa_record), and a decision over
// what parsed. A parsed record keeps every byte, a usable one has data and a known digest of
// its length, and dane_decide only hands out usable records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libproto/dane/dane_policy.h"
#include "libproto/dane/dane_tlsa.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view rdata(reinterpret_cast<const char*>(data), size);
    auto t = tlsa_record(rdata);
    if (!t) return 0;
    if (t->data.size() + 3 != rdata.size()) std::abort();
    if (tlsa_usable_for_smtp(*t)) {
        if (t->data.empty()) std::abort();
        if (t->matching == 1 && t->data.size() != 32) std::abort();
        if (t->matching == 2 && t->data.size() != 64) std::abort();
    }
    (void)tlsa_text(*t);
    DaneInput in;
    in.secure = true;
    in.lookup = TlsaLookup::found;
    in.tlsa_authenticated = true;
    in.records = {*t};
    in.mandatory = size % 2 == 0;
    auto d = dane_decide(in);
    if (d.outcome == DaneOutcome::verify) {
        if (d.records.size() != 1 || !tlsa_usable_for_smtp(d.records[0])) std::abort();
    } else if (!d.records.empty() || tlsa_usable_for_smtp(*t)) {
        std::abort();
    }
    return 0;
}
