#pragma once
// The store side of SEARCH: matches a batch of snapshot positions with search_matcher.h,
// loading each stage only for the messages still undecided (search_matcher.h says which
// facts come from where). Runs on the pool (blocking); the command calls it batch by batch
// so the loop is never held and a large folder yields between batches.
//
// Cost per stage: the snapshot (flags, keywords, UID) is free; info() is one call per
// batch; envelope keys read the MIME cache (parsing and caching the message on a miss);
// HEADER of a non-envelope field reads the root header; only BODY / TEXT read bodies,
// streamed in 64 KB chunks through the transfer and charset decoders.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "imapd/search_matcher.h"
#include "libmailstore/store.h"

namespace postern {

struct SearchBudget {
    uint32_t max_messages = 2000;   // snapshot entries looked at per batch
    uint64_t max_bytes = 8u << 20;  // message bytes read per batch (at least one message)
    std::chrono::milliseconds max_time{25};
};

struct SearchMatches {
    std::vector<uint32_t> positions;  // 0-based snapshot positions, ascending
    std::vector<uint64_t> modseqs;    // parallel to positions when the plan has MODSEQ
};

// Matches positions [pos, ...) of box.messages() until the end or the budget; appends the
// matches to `out` and returns the next position to look at. Messages expunged meanwhile
// do not match. Errors: the store's (info, reads) other than expunged / not_found.
StoreResult<uint32_t> search_batch(Mailbox& box, const SearchPlan& plan, const SearchContext& ctx,
                                   uint32_t pos, const SearchBudget& budget, SearchMatches& out);

// The message's MimeMessage from the cache, or parsed (streamed through `reader`, opened
// when null) and then cached. Errors: the store's (expunged / not_found when it is gone).
StoreResult<MimeMessage> search_load_mime(Mailbox& box, uint32_t uid,
                                          std::unique_ptr<MessageReader>& reader,
                                          std::vector<char>& buf);

}  // namespace postern
