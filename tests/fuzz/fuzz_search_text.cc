// libFuzzer: SEARCH's text helpers on arbitrary bytes: case folding, the streaming header
// reader (fed in two chunks split at the first byte's value), the needle scanner and the
// RFC 5256 base subject.
// Invariants: no crash; folding is idempotent; a needle taken from the folded text is found
// however the text is chunked; every field value is trimmed and bounded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "imapd/search_fold.h"
#include "imapd/search_text.h"
#include "libproto/imap/imap_base_subject.h"
#include "libproto/mime/mime_part.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string folded = search_fold(in);
    if (search_fold(folded) != folded) std::abort();

    size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    SearchHeaderReader r([](std::string_view name, std::string_view value) {
        if (name.empty() || value.size() > kMimeMaxFieldBytes + 2) std::abort();
        if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) std::abort();
    });
    r.feed(in.substr(0, cut));
    r.feed(in.substr(cut));
    r.finish();

    BaseSubject b = imap_base_subject(in);
    if (!b.text.empty() && (b.text.front() == ' ' || b.text.back() == ' ')) std::abort();

    if (folded.size() >= 2) {
        size_t a = cut % folded.size();
        size_t len = 1 + (size % (folded.size() - a));
        std::string needle = folded.substr(a, len);
        SearchTextScanner sc({needle});
        for (size_t i = 0; i < folded.size(); i += 7)
            sc.feed(std::string_view(folded).substr(i, 7));
        if (!sc.hit(0)) std::abort();
    }
    return 0;
}
