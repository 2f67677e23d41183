#include "response_scanner.h"

namespace imap_load {

bool ResponseScanner::literal_at_end(std::string_view line, uint64_t& n) {
    if (line.size() < 3 || line.back() != '}') return false;
    size_t end = line.size() - 1;
    if (line[end - 1] == '+') --end;  // LITERAL+ form, as a server never sends it but may
    size_t open = line.rfind('{', end);
    if (open == std::string_view::npos || open + 1 == end || end - open > 20) return false;
    uint64_t v = 0;
    for (size_t i = open + 1; i < end; ++i) {
        char c = line[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    n = v;
    return true;
}

}  // namespace imap_load
