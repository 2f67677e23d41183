#pragma once
// The in-memory twin of a POP3 maildrop store, for session tests and the
// fuzzer: users -> mailboxes of (uid, bytes, seen), with the same locking and
// snapshot behaviour as the real store (new mail shows in the next session;
// a message removed meanwhile gives MaildropError::vanished).

#include <map>
#include <memory>
#include <set>
#include <string>

#include "libproto/pop3/pop3_maildrop.h"

namespace postern {

class Pop3MemoryStore {
public:
    struct Message {
        std::string bytes;
        bool seen = false;
    };
    struct Box {
        uint32_t uid_validity = 1000;
        uint32_t uid_next = 1;
        std::map<uint32_t, Message> messages;
        bool locked = false;
    };

    // Adds a message to the user's maildrop (creating it); returns its uid.
    uint32_t deliver(const std::string& user, std::string bytes);
    // Removes a message as another (IMAP) session would.
    void remove(const std::string& user, uint32_t uid);
    Box* box(const std::string& user);

    // Opens a snapshot; in_use when locked and `exclusive`. An unknown user has an empty one.
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open(const std::string& user,
                                                                 bool exclusive = true);

    // Fault injection for tests.
    bool fail_expunge = false;
    bool fail_reads = false;

private:
    std::map<std::string, std::shared_ptr<Box>> boxes_;
    friend class MemoryMaildrop;
};

}  // namespace postern
