#pragma once
// SORT (RFC 5256 section 3, DISPLAYFROM / DISPLAYTO of RFC 5957): the values each sort key
// compares, loaded on the pool for the matching messages (info() for ARRIVAL / SIZE /
// DATE's fallback, the MIME cache for the rest), and the order. Strings are compared
// case-folded (search_fold.h, for i;unicode-casemap); ties go by sequence number.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "imapd/search_loader.h"
#include "libproto/imap/imap_search.h"

namespace postern {

struct SortValues {
    uint32_t position = 0;  // in the snapshot (0-based): ties and the answer
    int64_t arrival = 0;    // internal date
    int64_t date = 0;       // Date: in UTC, else the internal date
    uint64_t size = 0;
    std::string cc, from, to, subject, display_from, display_to;  // folded
    // THREAD: Message-ID, In-Reply-To (raw) and whether the subject was a reply/forward.
    std::string message_id, in_reply_to;
    std::string references;  // the raw References field (with sort_needs_references)
    bool reply = false;
};

enum SortNeeds : uint8_t { sort_needs_info = 1, sort_needs_mime = 2, sort_needs_references = 4 };
uint8_t sort_needs(std::span<const SortCriterion> criteria);

// Values for positions[from, ...) until the end or the budget; returns the next index.
// Messages expunged meanwhile are left out.
StoreResult<size_t> sort_values_batch(Mailbox& box, uint8_t needs,
                                      std::span<const uint32_t> positions, size_t from,
                                      const SearchBudget& budget, std::vector<SortValues>& out);

// Fills the string and date values of one message from its MIME structure.
void sort_values_from_mime(const MimeMessage& m, SortValues& v);

// Orders by the criteria, then by sequence number.
void sort_by(std::vector<SortValues>& v, std::span<const SortCriterion> criteria);

}  // namespace postern
