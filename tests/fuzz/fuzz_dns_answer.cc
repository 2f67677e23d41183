// fuzz_dns_answer: arbitrary bytes as a DNS response. Whatever parses must
// give sane records: addresses of the right length, names within 255 wire
// bytes' worth of text, CNAME chains that end, TXT/TLSA helpers that never
// read past the RDATA.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libproto/dns_parse/dns_message.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view wire(reinterpret_cast<const char*>(data), size);
    auto m = parse_dns_message(wire);
    if (!m) return 0;
    for (auto& r : m->answers) {
        // A name of at most 255 wire bytes is at most 4 * 255 characters escaped.
        if (r.name.size() > 1020 || r.target.size() > 1020) std::abort();
        auto text = address_text(r);
        if ((r.type == dns_type::a || r.type == dns_type::aaaa) && text.empty()) std::abort();
        if (r.type == dns_type::txt) (void)txt_text(r.rdata);
        if (r.type == dns_type::tlsa) {
            auto t = tlsa_record(r.rdata);
            if (t && t->data.size() + 3 != r.rdata.size()) std::abort();
        }
        for (uint16_t type : {dns_type::a, dns_type::aaaa, dns_type::mx, dns_type::cname}) {
            auto set = records_for(*m, r.name, type);
            for (auto* x : set.records)
                if (x->type != type) std::abort();
        }
    }
    auto set = records_for(*m, m->qname, m->qtype);
    if (set.records.size() > m->answers.size()) std::abort();
    return 0;
}
