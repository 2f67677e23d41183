#pragma once
// What SORT and THREAD share: match the search criteria (search_loader.h), then load the
// sort values of the matches (sort_keys.h), batch after batch through s.blocking(), so a
// large folder never holds the loop. Then `done` runs on the loop with run->values.

#include <functional>
#include <memory>
#include <string>

#include "imapd/imap_session.h"
#include "imapd/sort_keys.h"

namespace postern {

struct SortRun {
    std::shared_ptr<Mailbox> box;
    SearchPlan plan;
    SearchContext ctx;
    SearchBudget budget;
    SearchMatches matches;
    uint32_t pos = 0;
    uint8_t needs = 0;  // SortNeeds
    size_t next_value = 0;
    std::vector<SortValues> values;
};

// A run over the selected mailbox for `criteria`; nullopt-like (null) with the session
// answered when the charset is not supported.
std::shared_ptr<SortRun> start_sort_run(ImapSession& s, std::string_view charset,
                                        const SearchKey& criteria, uint8_t needs);

// Runs it; on a store error the command is answered with NO and `done` is not called.
void collect_sort_values(ImapSession& s, const std::shared_ptr<SortRun>& run,
                         std::function<void()> done);

// Writes `text` (a whole untagged line) in pieces with backpressure, then finishes OK.
void stream_and_finish(ImapSession& s, const std::shared_ptr<std::string>& text, size_t at,
                       std::string_view ok_text);

}  // namespace postern
