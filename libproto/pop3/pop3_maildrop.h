#pragma once
// What the POP3 engine needs from a mail store: one user's maildrop as a
// snapshot taken at login. pop3d implements it over libmailstore
// (pop3d/store_maildrop.cc); Pop3MemoryStore (pop3_maildrop_memory.h) is the
// in-memory twin used by unit tests and the fuzzer. libproto never sees
// libmailstore.

#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace postern {

// The closed set of maildrop errors; pop3_session.cc maps them to replies.
enum class MaildropError : uint8_t {
    in_use,     // another POP3 session holds the maildrop lock -> [IN-USE]
    vanished,   // message removed by another session (IMAP) since the snapshot
    temporary,  // I/O or index trouble that may go away -> [SYS/TEMP]
    permanent,  // the maildrop cannot be used at all -> [SYS/PERM]
};

struct MaildropMessage {
    uint32_t uid = 0;   // store UID, stable for the mailbox's UIDVALIDITY
    uint64_t size = 0;  // exact octets of the stored (CRLF) message = what RETR sends
};

// An open message: its bytes in order. read() returns how many bytes were
// put in buf (0 at the end). Reading is synchronous (a local file).
class MessageStream {
public:
    virtual ~MessageStream() = default;
    virtual std::expected<size_t, MaildropError> read(std::span<char> buf) = 0;
};

// One user's maildrop. Destroying it releases the POP3 lock.
class Maildrop {
public:
    virtual ~Maildrop() = default;
    virtual uint32_t uid_validity() const = 0;
    // The snapshot taken at open, in store (UID) order. Never changes.
    virtual const std::vector<MaildropMessage>& messages() const = 0;
    virtual std::expected<std::unique_ptr<MessageStream>, MaildropError> open(uint32_t uid) = 0;
    // Marks \Seen in the shared index (so IMAP shows it read). The store may only note it
    // and commit the session's flags in expunge() (pop3d does: one write per session).
    virtual std::expected<void, MaildropError> mark_seen(uint32_t uid) = 0;
    // UPDATE state, called at every QUIT in TRANSACTION (also with no uids): saves noted
    // \Seen flags and removes these messages (ones already gone are skipped). An error with
    // no uids means only that \Seen flags were lost. Blocking: pop3d runs it on the pool.
    virtual std::expected<void, MaildropError> expunge(std::span<const uint32_t> uids) = 0;
};

}  // namespace postern
