// libFuzzer: a folder's dovecot-keywords file, which Dovecot (or anyone) may have
// written. Parsing never fails; what it keeps serializes into a file that parses
// to the same list, and names the store assigns are found again after a round trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libmailstore/maildir_keywords.h"
#include "libmailstore/maildir_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto list = postern::KeywordList::parse(text);
    const std::string once = list.serialize();
    auto again = postern::KeywordList::parse(once);
    if (again.serialize() != once) std::abort();
    for (int i = 0; i < postern::max_keyword_letters; ++i)
        if (again.name_at(i) != list.name_at(i)) std::abort();
    // The input's first line as a keyword name: assigned (or refused), then found again.
    std::string name(text.substr(0, text.find('\n')));
    int idx = list.assign(name);
    if (idx >= 0) {
        auto back = postern::KeywordList::parse(list.serialize());
        if (back.find(name) != idx) std::abort();
    }
    return 0;
}
