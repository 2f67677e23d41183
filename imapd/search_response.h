#pragma once
// The SEARCH answers, pure: "* SEARCH n n ... [(MODSEQ m)]" (RFC 3501 7.2.5, RFC 7162
// 3.1.5) and "* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ m]"
// (RFC 4731, RFC 9051 7.3.4), and what RETURN (SAVE) keeps for "$" (RFC 5182 2.4). The
// number list is written piece by piece (SearchNumberWriter) so a long one streams.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

// Appends ascending numbers: " n" each (SEARCH) or as a sequence set "1:3,7" (ESEARCH ALL).
class SearchNumberWriter {
public:
    SearchNumberWriter(std::string& out, bool as_set) : out_(out), as_set_(as_set) {}
    void add(uint32_t n);
    void finish();  // closes the last range of a set

private:
    std::string& out_;
    bool as_set_;
    bool any_ = false;
    uint32_t first_ = 0, last_ = 0;
};

struct EsearchShape {
    std::string_view tag;
    bool uid = false;
    uint8_t return_opts = 0;  // SearchReturnBits
};

// "* ESEARCH (TAG "t") UID MIN 1 MAX 9 COUNT 4" and, when ALL is asked and something
// matched, " ALL " ready for the set. `numbers` ascending.
void write_esearch_head(std::string& out, const EsearchShape& shape,
                        std::span<const uint32_t> numbers);
// True when an ESEARCH answer is sent at all (RETURN (SAVE) alone sends none).
bool esearch_answers(uint8_t return_opts);
// The messages whose MODSEQ the answer covers: all matches, or MIN/MAX alone when only
// those are returned (RFC 7162 3.1.5). Indexes into the ascending match list.
std::vector<size_t> modseq_scope(uint8_t return_opts, bool esearch, size_t matches);
// What "$" holds after a RETURN (SAVE) search: MIN and/or MAX only, when they are asked
// without ALL or COUNT; all the UIDs otherwise (ascending).
std::vector<uint32_t> saved_result(uint8_t return_opts, std::span<const uint32_t> uids);

}  // namespace postern
