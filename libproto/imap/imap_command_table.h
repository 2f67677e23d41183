#pragma once
// The IMAP command table: one constexpr row per command with the session states it is
// allowed in and the flags that decide pipelining and untagged EXPUNGE (as Dovecot's
// COMMAND_FLAG_USES_SEQS / COMMAND_FLAG_BREAKS_SEQS). The parser uses it to map a name to
// an ImapCommandId; the session uses it for gating, in one place.
//
// The rules the flags encode (RFC 3501 sections 5.5 and 7.4.1, RFC 9051 the same):
//  * A command is "in progress" from the moment it is complete (not while a literal is being
//    negotiated) until its tagged reply.
//  * Untagged EXPUNGE (or VANISHED) may be sent only while a command is in progress, and
//    never while one that uses sequence numbers is (uses_sequence_numbers(): FETCH, STORE,
//    SEARCH, COPY, MOVE, SORT, THREAD without the UID prefix). Pending expunges are
//    announced at the next command that allows it (NOOP, CHECK, IDLE, a UID command, ...).
//  * Pipelined commands may run concurrently only when none of them is `exclusive` (it
//    changes the connection, the state or the selected mailbox, or streams its input) and
//    none `may_expunge`; a command that uses sequence numbers never runs while a
//    `may_expunge` command has not finished. Anything else runs in order, one at a time.
//  * `needs_tls`: refused on a plaintext connection unless the configuration allows
//    plaintext logins (LOGIN; RFC 9051 LOGINDISABLED). AUTHENTICATE decides per mechanism.

#include <cstdint>
#include <optional>
#include <string_view>

namespace postern {

enum class ImapCommandId : uint8_t {
    capability,
    noop,
    logout,
    starttls,
    authenticate,
    login,
    select,
    examine,
    create,
    delete_mailbox,
    rename,
    subscribe,
    unsubscribe,
    list,
    lsub,
    status,
    append,
    check,
    close,
    unselect,
    expunge,
    search,
    fetch,
    store,
    copy,
    move,
    idle,
    namespace_,
    enable,
    id,
    getquota,
    getquotaroot,
    setquota,
    compress,
    sort,
    thread,
    unknown,  // not a command: a Bad before the name was known
};

// Session states a command is allowed in (bits).
enum ImapStateBits : uint8_t {
    imap_state_not_authenticated = 1,
    imap_state_authenticated = 2,
    imap_state_selected = 4,
    imap_state_logout = 8,
};

enum ImapCommandFlags : uint8_t {
    imap_cmd_uses_seqs = 1,    // takes message sequence numbers (unless UID-prefixed)
    imap_cmd_may_expunge = 2,  // removes messages: sequence numbers change
    imap_cmd_needs_tls = 4,    // plaintext only when the configuration allows it
    imap_cmd_uid = 8,          // may carry the UID prefix
    imap_cmd_exclusive = 16,   // runs alone (state, connection or selected mailbox changes)
};

struct ImapCommandSpec {
    std::string_view name;
    ImapCommandId id;
    uint8_t states;
    uint8_t flags;
};

// The row for a command name (case-insensitive), if it is one.
const ImapCommandSpec* find_imap_command(std::string_view name);
const ImapCommandSpec& imap_command_spec(ImapCommandId id);
std::string_view imap_command_name(ImapCommandId id);

// True when the command, with or without the UID prefix, refers to messages by sequence
// number (so no untagged EXPUNGE may be sent while it runs).
bool uses_sequence_numbers(ImapCommandId id, bool uid);
bool allowed_in_state(ImapCommandId id, uint8_t state_bit);

}  // namespace postern
