#pragma once
// A folder snapshot as every Mailbox backend holds it: the MessageEntry vector sorted by uid
// (8 bytes a message) and one table of the distinct keyword sets the entries name (id 0: no
// keywords). Backend-neutral: a backend fills a table from its index (push_back), keeps it up
// to date from its change log (upsert, erase) and its own writes (update, erase), or builds a
// fresh one and compares (replace_with). Not thread-safe, like the Mailbox that owns it.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "libmailstore/store.h"

namespace postern {

class SnapshotTable {
public:
    std::span<const MessageEntry> entries() const { return msgs_; }
    size_t size() const { return msgs_.size(); }
    // nullptr when uid is not in the table. O(log n).
    const MessageEntry* find(uint32_t uid) const;
    // The keywords of one of this table's entries.
    const std::vector<std::string>& keywords_of(const MessageEntry& m) const {
        return kwsets_.at(m.keywords);
    }
    // Every keyword of every set in the table (once, case-insensitively, in the order the
    // sets were added). A set stays in the table after its last message changes, until the
    // table is rebuilt.
    std::vector<std::string> all_keywords() const;

    // The id of a keyword set, added to the table if new; corrupt when the table is full
    // (65,535 distinct sets).
    StoreResult<uint16_t> intern(const std::vector<std::string>& keywords);

    // Building a table: appends a message above every uid already in it (corrupt otherwise).
    void reserve(size_t n) { msgs_.reserve(n); }
    void shrink_to_fit() { msgs_.shrink_to_fit(); }
    StoreResult<void> push_back(uint32_t uid, uint8_t flags,
                                const std::vector<std::string>& keywords);

    // From a change log: the message as it is now, inserted (delta.added) or, when its flags
    // or keywords differ, replaced (delta.changed).
    StoreResult<void> upsert(uint32_t uid, uint8_t flags, const std::vector<std::string>& keywords,
                             MailboxDelta& delta);
    // After this handle's own flag change: the entry's new flags and keywords; a uid not in
    // the table is left out (the snapshot gains messages only on refresh).
    StoreResult<void> update(uint32_t uid, uint8_t flags, const std::vector<std::string>& keywords);
    // Drops the given uids (ascending); with a delta, those that were there go to
    // delta.expunged.
    void erase(std::span<const uint32_t> sorted_uids);
    void erase(std::span<const uint32_t> sorted_uids, MailboxDelta& delta);

    // Becomes `fresh` (a full reload) and says what changed. same_folder false (another
    // folder of that name now): every old message expunged, every new one added.
    MailboxDelta replace_with(SnapshotTable fresh, bool same_folder);

private:
    std::vector<MessageEntry>::iterator lower(uint32_t uid);

    std::vector<MessageEntry> msgs_;
    std::vector<std::vector<std::string>> kwsets_{{}};  // id 0: no keywords
    std::map<std::vector<std::string>, uint16_t> kwset_ids_;
};

}  // namespace postern
