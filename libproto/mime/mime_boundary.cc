#include "libproto/mime/mime_boundary.h"

namespace postern::mime_detail {

BoundaryMatch match_boundary(std::string_view line, bool dropped_nonws, std::string_view boundary,
                             bool strict) {
    if (line.size() < 2 + boundary.size() || line[0] != '-' || line[1] != '-' ||
        line.substr(2, boundary.size()) != boundary)
        return BoundaryMatch::kNone;
    std::string_view rest = line.substr(2 + boundary.size());
    bool close = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
    if (close) rest.remove_prefix(2);
    if (strict) {
        if (dropped_nonws) return BoundaryMatch::kNone;
        for (char c : rest) {
            if (c != ' ' && c != '\t' && c != '\r') return BoundaryMatch::kNone;
        }
    }
    return close ? BoundaryMatch::kClose : BoundaryMatch::kDelimiter;
}

}  // namespace postern::mime_detail
