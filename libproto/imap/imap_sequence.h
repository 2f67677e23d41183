#pragma once
// IMAP sequence sets (RFC 3501 sequence-set, RFC 5182 "$"): "1,3:5,7:*" as ranges of
// uint32, "*" kept distinct (it means the largest number in use, known only to the session),
// or "$", the result saved by SEARCH RETURN (SAVE).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace postern {

class ImapLexer;

struct SeqRange {
    // "*" is kept as SequenceSet::star (0 is never a valid sequence number or UID).
    uint32_t first = 0;
    uint32_t last = 0;
};

struct SequenceSet {
    static constexpr uint32_t star = 0;

    std::vector<SeqRange> ranges;  // as written: unordered, "5:2" allowed
    bool saved = false;            // "$": ranges is empty

    // `n` is in the set when "*" stands for `max` (ranges are inclusive either way round).
    // For "$" it is false: the session substitutes the saved result.
    bool contains(uint32_t n, uint32_t max) const;
    // Ranges with "*" replaced by `max`, first <= last, sorted and merged. Numbers above
    // `max` stay (a UID range beyond the last UID is simply empty; a sequence number above
    // the message count is the session's BAD, see exceeds()).
    std::vector<SeqRange> normalized(uint32_t max) const;
    // Some number in the set (with "*" as `max`) is above `max`.
    bool exceeds(uint32_t max) const;
};

// Parses a sequence-set (or "$" when `dollar_ok`) at the lexer; at most `max_ranges` ranges.
bool parse_sequence_set(ImapLexer& lx, SequenceSet& out, size_t max_ranges, bool dollar_ok = true);

}  // namespace postern
