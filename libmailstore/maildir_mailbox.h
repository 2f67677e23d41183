#pragma once
// The Maildir++ + LMDB Mailbox (internal): a folder snapshot over the user's index, for POP3
// and IMAP sessions. The snapshot is 8 bytes a message (MessageEntry) plus one table of the
// distinct keyword sets in use; the rest is read from the index on demand. Its pieces:
// maildir_mailbox.cc (snapshot, refresh, flags, expunge), maildir_copy.cc (COPY/MOVE),
// maildir_cache.cc (the per-message cache slot).

#include "libmailstore/flag_change.h"
#include "libmailstore/maildir_store.h"
#include "libmailstore/snapshot.h"

namespace postern {

class MaildirMailbox final : public Mailbox {
public:
    MaildirMailbox(std::string user, std::string folder, std::shared_ptr<UserIndex> idx,
                   std::function<uint64_t(std::string_view)> quota_of);

    const std::string& user() const override { return user_; }
    const std::string& folder() const override { return folder_; }
    uint32_t uidvalidity() const override { return meta_.uidvalidity; }
    uint32_t uidnext() const override { return meta_.uidnext; }
    uint64_t highestmodseq() const override { return meta_.highestmodseq; }
    std::span<const MessageEntry> messages() const override { return snap_.entries(); }
    const MessageEntry* find(uint32_t uid) const override { return snap_.find(uid); }
    const std::vector<std::string>& keywords_of(const MessageEntry& m) const override {
        return snap_.keywords_of(m);
    }
    std::vector<std::string> folder_keywords() const override { return snap_.all_keywords(); }

    StoreResult<std::vector<MessageInfo>> info(std::span<const uint32_t> uids) override;
    using Mailbox::info;
    StoreResult<MailboxDelta> refresh() override;
    StoreResult<FolderChanges> changes_since(uint64_t modseq) override;
    StoreResult<std::unique_ptr<MessageReader>> open_message(uint32_t uid) override;
    StoreResult<std::vector<uint32_t>> store_flags(std::span<const uint32_t> uids,
                                                   const FlagChange& change,
                                                   uint64_t unchanged_since) override;
    StoreResult<void> expunge(std::span<const uint32_t> uids) override;
    StoreResult<UidMap> copy_to(std::span<const uint32_t> uids, std::string_view folder) override;
    StoreResult<UidMap> move_to(std::span<const uint32_t> uids, std::string_view folder) override;
    StoreResult<std::optional<std::string>> cache_get(uint32_t uid, uint32_t version) override;
    StoreResult<void> cache_put(uint32_t uid, uint32_t version, std::string_view data) override;
    StoreResult<void> cache_put_many(uint32_t version, std::span<const CacheSlot> slots) override;

private:
    // The folder's records as a fresh snapshot.
    StoreResult<SnapshotTable> load(lmdb::Txn& txn, const FolderMeta& meta);
    StoreResult<void> put_slot(lmdb::Txn& txn, uint32_t uid, uint32_t version,
                               std::string_view data, std::string& scratch);
    // Finds the current name of a file whose name changed behind our back (rare: a
    // flag change whose index commit was lost). Empty when gone.
    std::string find_by_stem(const std::string& stem);

    // A write transaction on this folder with its current metadata; not_found when the folder
    // was deleted (or deleted and re-created) since this handle opened it.
    struct FolderWrite {
        lmdb::Txn txn;
        FolderMeta meta;
    };
    StoreResult<FolderWrite> begin_folder_write();
    // One attempt of each write; the public ones redo it after growing a full map.
    StoreResult<std::vector<uint32_t>> store_flags_once(std::span<const uint32_t> uids,
                                                        const FlagChange& change,
                                                        uint64_t unchanged_since);
    StoreResult<void> expunge_once(std::span<const uint32_t> uids);
    StoreResult<UidMap> copy_once(std::span<const uint32_t> uids, std::string_view folder);
    // After a committed change that took the folder from modseq `before` to `after`.
    void note_committed(uint64_t before, uint64_t after);

    std::string user_;
    std::string folder_;
    std::shared_ptr<UserIndex> idx_;
    std::function<uint64_t(std::string_view)> quota_of_;
    fs::path dir_;

    FolderMeta meta_;
    uint64_t synced_modseq_ = 0;  // index highestmodseq our snapshot reflects
    bool loaded_ = false;
    SnapshotTable snap_;
};

// Applies a flag change to a record (flag_change.h); true when something changed.
inline bool apply_flag_change(MsgRecord& rec, const FlagChange& ch) {
    return apply_flag_change(rec.flags, rec.keywords, ch);
}

}  // namespace postern
