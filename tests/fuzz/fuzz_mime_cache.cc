// libFuzzer: the MIME cache decoder on arbitrary bytes (what a damaged or foreign cache
// slot holds). Invariants: no crash; what decodes formats (ENVELOPE, BODYSTRUCTURE, every
// top-level section) and re-encodes to bytes that decode to the same structure.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libproto/imap/imap_bodystructure.h"
#include "libproto/imap/imap_envelope.h"
#include "libproto/imap/imap_section.h"
#include "libproto/mime/mime_cache.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto m = mime_cache_decode(in);
    if (!m) return 0;
    std::string out;
    if (m->root().envelope) imap_write_envelope(out, *m->root().envelope);
    imap_write_bodystructure(out, *m, 0, true);
    for (SectionText t : {SectionText::none, SectionText::header, SectionText::text}) {
        auto r = imap_resolve_section(*m, BodySection{{}, t, {}});
        if (r && r->offset + r->size > m->size) std::abort();
        auto r1 = imap_resolve_section(*m, BodySection{{1}, t, {}});
        if (r1 && r1->offset + r1->size > m->size) std::abort();
    }
    auto again = mime_cache_decode(mime_cache_encode(*m));
    if (!again || !(*again == *m)) std::abort();
    return 0;
}
