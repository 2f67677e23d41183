// parse_smtp_path on arbitrary text. Byte 0: bit 0 = RCPT (else MAIL), bit 1 = SMTPUTF8.
// Invariant checked: an accepted path formats to text that parses to the same address.
#include "libproto/smtp/smtp_address.h"

#include <cstddef>
#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    PathKind kind = data[0] & 1 ? PathKind::forward_path : PathKind::reverse_path;
    bool utf8 = data[0] & 2;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto r = parse_smtp_path(text, kind, utf8);
    if (!r) {
        if (path_error_text(r.error()).empty()) __builtin_trap();
        return 0;
    }
    if (r->local.size() > 64 || r->domain.size() > 255) __builtin_trap();
    if (r->has_utf8 && !utf8) __builtin_trap();
    std::string again = format_smtp_path(*r);
    auto r2 = parse_smtp_path(again, kind, utf8);
    if (!r2 || r2->local != r->local || r2->domain != r->domain || r2->is_null != r->is_null ||
        r2->is_postmaster != r->is_postmaster)
        __builtin_trap();
    return 0;
}
