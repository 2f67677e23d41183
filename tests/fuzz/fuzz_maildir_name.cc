// libFuzzer: Maildir file names, which other tools also write into our
// mailboxes. A parsed name must rebuild into a name that parses to the same
// uid, size, flags, keyword letters and foreign info, and rebuilding that gives
// the same name again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libmailstore/maildir_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view name(reinterpret_cast<const char*>(data), size);
    auto n = postern::parse_maildir_name(name);
    if (!n) return 0;
    if (n->keyword_letters >> postern::max_keyword_letters) std::abort();
    for (char c : n->other_info.substr(0, n->other_info.find(',')))
        if (c >= 'a' && c <= 'z') std::abort();  // a keyword letter taken for a foreign one
    auto rebuilt = postern::maildir_file_name(n->stem, n->flags, n->other_info, n->keyword_letters);
    auto again = postern::parse_maildir_name(rebuilt);
    if (!again || again->uid != n->uid || again->size != n->size || again->flags != n->flags ||
        again->keyword_letters != n->keyword_letters || again->stem != n->stem)
        std::abort();
    if (postern::maildir_file_name(again->stem, again->flags, again->other_info,
                                   again->keyword_letters) != rebuilt)
        std::abort();
    return 0;
}
