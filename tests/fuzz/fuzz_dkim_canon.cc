// fuzz_dkim_canon: arbitrary bytes as a message to sign. The header parser gives fields
// inside the header, the relaxed header form has no WSP runs and no line break but its
// last, and the streaming body canonicalizer gives the same octets whole, one octet at a
// time and split where the first input byte says, never a WSP run or WSP before a CRLF,
// never an empty line at the end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libproto/dkim/dkim_canon.h"
#include "libproto/dkim/dkim_header_fields.h"
#include "libproto/dkim/dkim_message.h"
#include "libproto/dkim/dkim_signer.h"

using namespace postern;

namespace {

std::string canon(std::string_view body, size_t chunk) {
    std::string out;
    RelaxedBody rb([&out](std::string_view s) { out.append(s); });
    for (size_t at = 0; at < body.size(); at += chunk) rb.feed(body.substr(at, chunk));
    rb.finish();
    if (rb.canonical_size() != out.size()) std::abort();
    return out;
}

void check_relaxed_body(const std::string& out) {
    if (out.empty()) return;
    if (!out.ends_with("\r\n") || out.ends_with("\r\n\r\n") || out == "\r\n") std::abort();
    for (size_t i = 0; i + 1 < out.size(); ++i) {
        bool wsp = out[i] == ' ' || out[i] == '\t';
        if (out[i] == '\t') std::abort();  // every run became one SP
        if (wsp && (out[i + 1] == ' ' || out[i + 1] == '\t')) std::abort();
        if (wsp && out.compare(i + 1, 2, "\r\n") == 0) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    size_t chunk = 1 + data[0] % 64;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    auto end = header_end(input);
    std::string_view header = end ? input.substr(0, *end) : input;
    auto fields = parse_header_fields(header);
    for (const auto& f : fields) {
        if (f.name.empty() || f.name.data() < header.data() ||
            f.value.data() + f.value.size() > header.data() + header.size())
            std::abort();
        std::string relaxed;
        append_relaxed_header(f.name, f.value, relaxed);
        std::string_view r(relaxed);
        r.remove_suffix(2);
        if (r.find("\r\n") != std::string_view::npos || r.find("  ") != std::string_view::npos ||
            r.find('\t') != std::string_view::npos)
            std::abort();
    }
    auto names = dkim_signed_names(fields);
    if (names.empty() || names.back() != "from") std::abort();
    if (select_fields(fields, names).size() > fields.size()) std::abort();
    (void)dkim_from_domain(fields);

    std::string_view body = end ? input.substr(*end) : std::string_view();
    std::string whole = canon(body, body.size() + 1);
    check_relaxed_body(whole);
    if (canon(body, chunk) != whole || canon(body, 1) != whole) std::abort();

    DkimMessage m;
    for (size_t at = 0; at < input.size(); at += chunk) m.feed(input.substr(at, chunk));
    if (!m.finish() || m.body_hash().size() != 44 || m.fields().size() != fields.size())
        std::abort();
    return 0;
}
