#pragma once
// The store side of SEARCH: matches a batch of snapshot positions with search_matcher.h,
// loading each stage only for the messages still undecided (search_matcher.h says which
// facts come from where). Runs on the pool (blocking); the command calls it batch by batch
// so the loop is never held and a large folder yields between batches.
//
// Cost per stage: the snapshot (flags, keywords, UID) is free; info() is one call per
// batch; envelope keys read the MIME cache (parsing the message on a miss; the structures
// parsed in a batch are cached with one cache_put_many at its end, message_structure.h);
// HEADER of a non-envelope field reads the root header; only BODY / TEXT read bodies,
// streamed in 64 KB chunks through the transfer and charset decoders.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "imapd/message_structure.h"
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

}  // namespace postern
