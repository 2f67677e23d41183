#pragma once
// Sequence sets to UIDs over a selected mailbox's snapshot (for FETCH, STORE, SEARCH, COPY,
// MOVE, UID EXPUNGE): the sequence-number form (position in the snapshot, "*" = the last),
// the UID form ("*" = the highest UID; a UID range beyond it still names the last message,
// RFC 9051 6.4.8) and "$" (the saved SEARCH result, RFC 5182).

#include <cstdint>
#include <expected>
#include <span>
#include <vector>

#include "imapd/imap_errors.h"
#include "libmailstore/store.h"
#include "libproto/imap/imap_sequence.h"

namespace postern {

// The UIDs `set` names, ascending and unique; "$" names those of `saved` still in the
// snapshot, none when nothing was saved (null). Errors: bad_sequence for a sequence number
// above the message count.
std::expected<std::vector<uint32_t>, ImapRefusal> resolve_message_set(
    const SequenceSet& set, bool uid, std::span<const MessageEntry> snapshot,
    const std::vector<uint32_t>* saved);

// 1-based position of `uid` in the snapshot, 0 when it is not there.
uint32_t sequence_of(std::span<const MessageEntry> snapshot, uint32_t uid);

// "1:3,7" for ascending UIDs (VANISHED, COPYUID).
void write_uid_set(std::string& out, std::span<const uint32_t> ascending);

}  // namespace postern
