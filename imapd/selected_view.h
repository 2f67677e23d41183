#pragma once
// The untagged updates of a selected mailbox (RFC 3501 7.4.1, RFC 9051 7.5, RFC 7162 3.2):
// what the client hears when the snapshot moves on, by refresh() or by the session's own
// expunges. The session decides WHEN (never while a command that uses sequence numbers
// runs: imap_session.h); this file decides WHAT, from the new snapshot:
//
//   * n EXPUNGE          one per expunged UID, ascending; each number counts the messages
//                        the client still knows below it: (entries with a smaller UID in the
//                        new snapshot) + 1, which is right because every EXPUNGE before it
//                        already removed the smaller expunged ones and new mail only has
//                        larger UIDs.
//   * VANISHED uid-set   instead, once QRESYNC is enabled (RFC 7162 3.2.10)
//   * n EXISTS           when messages arrived (n = the new count)
//   * n FETCH (UID u FLAGS (...) [MODSEQ (m)])   for messages whose flags changed

#include <span>
#include <string>

#include "libmailstore/store.h"

namespace postern {

struct UpdateStyle {
    bool vanished = false;  // QRESYNC enabled
    bool modseq = false;    // CONDSTORE enabled: FETCH carries MODSEQ
};

// EXPUNGE or VANISHED lines for `expunged` (ascending UIDs that were in the client's view
// and are no longer in box's snapshot).
void write_expunges(std::string& out, const Mailbox& box, std::span<const uint32_t> expunged,
                    bool vanished);

// Everything `delta` (from box.refresh()) means to the client. `infos`: MessageInfo of the
// changed UIDs (for MODSEQ), may be empty without CONDSTORE.
void write_mailbox_updates(std::string& out, const Mailbox& box, const MailboxDelta& delta,
                           UpdateStyle style, std::span<const MessageInfo> infos);

// "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])" for one snapshot entry (seq 1-based).
void write_flags_fetch(std::string& out, const Mailbox& box, uint32_t seq, const MessageEntry& m,
                       const uint64_t* modseq);

}  // namespace postern
