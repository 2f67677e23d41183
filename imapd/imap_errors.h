#pragma once
// IMAP response codes (RFC 3501 7.1, RFC 5530, RFC 9051 7.1) and the texts of imapd's
// refusals, in one place: StoreError -> NO [CODE] text is store_error_reply(), the gating
// refusals (wrong state, not implemented, TLS needed) are refusal_reply(). Texts are fixed
// strings: they never name a folder, so they cannot reveal another user's folders.

#include <cstdint>
#include <string_view>

#include "libmailstore/store_error.h"

namespace postern {

enum class ImapCode : uint8_t {
    none,
    alert,
    alreadyexists,
    authenticationfailed,
    cannot,
    clientbug,
    compressionactive,  // RFC 4978
    closed,
    expungeissued,
    inuse,
    limit,
    nonexistent,
    noperm,
    overquota,
    privacyrequired,
    readonly,   // READ-ONLY
    readwrite,  // READ-WRITE
    serverbug,
    trycreate,
    unavailable,
    useattr,
};

// "TRYCREATE", "READ-ONLY", ... ("" for none).
std::string_view imap_code_name(ImapCode c);

enum class ImapResult : uint8_t { ok, no, bad };

struct ImapReply {
    ImapResult status = ImapResult::no;
    ImapCode code = ImapCode::none;
    std::string_view text;  // static
};

// What a store error is about: the folder the command names, the destination of a COPY /
// MOVE / APPEND (not_found there is TRYCREATE), or messages.
enum class StoreContext : uint8_t { mailbox, target, messages };

// The one mapping of store errors to replies.
ImapReply store_error_reply(StoreError e, StoreContext ctx = StoreContext::mailbox);

// Refusals decided before a command runs.
enum class ImapRefusal : uint8_t {
    not_implemented,    // parsed, but no handler yet
    not_authenticated,  // needs LOGIN/AUTHENTICATE first
    already_authenticated,
    no_mailbox_selected,
    logging_out,
    privacy_required,  // plaintext LOGIN / PLAIN without TLS (LOGINDISABLED)
    read_only,         // changes in an EXAMINEd mailbox
    bad_sequence,      // a message sequence number above the message count
};
ImapReply refusal_reply(ImapRefusal r);

}  // namespace postern
