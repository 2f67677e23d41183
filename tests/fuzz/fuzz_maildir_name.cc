// libFuzzer: Maildir file names, which other tools also write into our
// mailboxes. A parsed name must rebuild into a name that parses to the same
// uid, size and flags.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libmailstore/maildir_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view name(reinterpret_cast<const char*>(data), size);
    auto n = postern::parse_maildir_name(name);
    if (!n) return 0;
    auto rebuilt = postern::maildir_file_name(n->stem, n->flags, n->other_info);
    auto again = postern::parse_maildir_name(rebuilt);
    if (!again || again->uid != n->uid || again->size != n->size || again->flags != n->flags)
        std::abort();
    return 0;
}
