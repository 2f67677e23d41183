#pragma once
// SEARCH criteria (RFC 3501 6.4.4, RFC 9051 6.4.4, CONDSTORE MODSEQ RFC 7162, WITHIN RFC 5032,
// SEARCHRES "$" RFC 5182) as a tree: a list of keys is an AND node, OR has two children,
// NOT one. Also the ESEARCH RETURN options (RFC 4731) and SORT criteria (RFC 5256).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "libproto/imap/imap_date.h"
#include "libproto/imap/imap_sequence.h"

namespace postern {

class ImapLexer;

enum class SearchKeyType : uint8_t {
    and_,  // children: all must match (a parenthesised list, or the top level)
    or_,   // children[0] or children[1]
    not_,  // children[0] does not match
    all,
    answered,
    deleted,
    draft,
    flagged,
    new_,  // RECENT UNSEEN
    old,   // NOT RECENT
    recent,
    seen,
    unanswered,
    undeleted,
    undraft,
    unflagged,
    unseen,
    keyword,    // text: the flag keyword
    unkeyword,  // text
    bcc,        // text: the substring
    body,
    cc,
    from,
    subject,
    text,
    to,
    header,  // field: the header name, text: the substring
    before,  // date: internal date
    on,
    since,
    sentbefore,  // date: Date: header
    senton,
    sentsince,
    larger,    // number: RFC822.SIZE
    smaller,   // number
    older,     // number: seconds (WITHIN)
    younger,   // number
    uid,       // set: UIDs
    sequence,  // set: sequence numbers (or "$")
    modseq,    // number: mod-sequence value; field: entry name, text: entry type (may be empty)
};

struct SearchKey {
    SearchKeyType type = SearchKeyType::all;
    std::string text;
    std::string field;
    uint64_t number = 0;
    ImapDate date;
    SequenceSet set;
    std::vector<SearchKey> children;
};

struct SearchLimits {
    unsigned max_keys = 1000;
    unsigned max_depth = 16;
    size_t max_ranges = 20000;
};

// search-key *(SP search-key) up to the end of the command, as an AND node.
bool parse_search_criteria(ImapLexer& lx, SearchKey& out, const SearchLimits& limits);

// ESEARCH RETURN options.
enum SearchReturnBits : uint8_t {
    search_return_min = 1,
    search_return_max = 2,
    search_return_all = 4,
    search_return_count = 8,
    search_return_save = 16,
};

enum class SortKey : uint8_t { arrival, cc, date, from, size, subject, to, displayfrom, displayto };

struct SortCriterion {
    SortKey key = SortKey::arrival;
    bool reverse = false;
};

// "(" sort-criterion *(SP sort-criterion) ")"
bool parse_sort_criteria(ImapLexer& lx, std::vector<SortCriterion>& out);

}  // namespace postern
