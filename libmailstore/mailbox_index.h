#pragma once
// The per-user LMDB index (DATA/<domain>/<local>/index/), a rebuildable cache of the
// maildir. Named databases:
//   meta     "usage" -> u64 octets in all folders; "next_folder_id" -> u32;
//            "last_uidvalidity" -> u32
//   folders  canonical folder name -> FolderMeta
//   msgs     be32(folder id) be32(uid) -> MsgRecord
//   pending  be32(folder id) be32(uid) -> "" : delivered to new/, not yet moved to cur/ by a
//            reader (the message is visible all the same: a committed delivery shows at once)
//   changes  be32(folder id) be64(modseq) -> ChangeEntry: the folder's change log
//            (change_log.cc); every message's current modseq has its entry, expunges are
//            kept as tombstones
//   cache    be32(folder id) be32(uid) -> be32 version + bytes: Mailbox::cache_get/put
// Opened with MDB_NOMETASYNC: a commit fdatasyncs the data pages but not the meta page, so a
// system crash may lose the last transaction, never corrupt the file. docs/store.md explains
// why every step stays safe under that.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "libmailstore/lmdb_env.h"
#include "libmailstore/maildir_layout.h"
#include "libmailstore/store.h"

namespace postern {

struct FolderMeta {
    uint32_t id = 0;
    uint32_t uidvalidity = 0;
    uint32_t uidnext = 1;
    uint64_t highestmodseq = 1;
    bool dirty = false;  // set by rebuild before it starts: reindex before use
    // STATUS without a snapshot: every message with a record (pending ones too).
    uint32_t messages = 0;
    uint32_t unseen = 0;
    uint64_t size = 0;
    // The change log is complete only above this modseq (a reindex starts it anew).
    uint64_t log_floor = 0;
};

struct MsgRecord {
    std::string stem;      // file name without the ":2," info
    bool in_new = false;   // file is in new/ (else cur/)
    bool pending = false;  // delivered, not yet moved to cur/ by a reader
    uint64_t size = 0;
    uint8_t flags = 0;
    std::string other_info;  // foreign info letters kept in the file name
    // The keywords that have a letter in the folder's dovecot-keywords list (maildir_keywords.h),
    // as letters in the file name (bit i: 'a' + i); a keyword without one is index-only.
    uint32_t keyword_letters = 0;
    std::vector<std::string> keywords;
    int64_t internal_date = 0;
    uint64_t modseq = 0;

    std::string file_name() const;  // stem + ":2," + info (or just stem when in new/ without flags)
};

std::string encode_folder(const FolderMeta& m);
std::optional<FolderMeta> decode_folder(std::string_view v);
std::string encode_msg(const MsgRecord& r);
std::optional<MsgRecord> decode_msg(std::string_view v);
std::string msg_key(uint32_t folder_id, uint32_t uid);
std::string folder_prefix(uint32_t folder_id);  // the first 4 bytes of its keys

// Adds (sign +1) or removes (-1) a message in the folder's STATUS counters.
void count_message(FolderMeta& m, const MsgRecord& r, int sign);

// One change-log entry: what happened at that modseq.
enum class ChangeKind : uint8_t { added = 'N', flags = 'F', expunged = 'X' };
struct ChangeEntry {
    ChangeKind kind = ChangeKind::flags;
    std::vector<uint32_t> uids;
};

class UserIndex {
public:
    static StoreResult<std::shared_ptr<UserIndex>> open(const UserPaths& paths, uint64_t map_size);

    lmdb::Env& env() { return *env_; }
    const UserPaths& paths() const { return paths_; }
    MDB_dbi meta() const { return env_->dbi(0); }
    MDB_dbi folders() const { return env_->dbi(1); }
    MDB_dbi msgs() const { return env_->dbi(2); }
    MDB_dbi pending() const { return env_->dbi(3); }
    MDB_dbi changes() const { return env_->dbi(4); }
    MDB_dbi cache() const { return env_->dbi(5); }

    StoreResult<std::optional<FolderMeta>> get_folder(lmdb::Txn& txn, const std::string& name);
    StoreResult<void> put_folder(lmdb::Txn& txn, const std::string& name, const FolderMeta& m);
    StoreResult<std::optional<MsgRecord>> get_msg(lmdb::Txn& txn, uint32_t fid, uint32_t uid);
    StoreResult<void> put_msg(lmdb::Txn& txn, uint32_t fid, uint32_t uid, const MsgRecord& r);
    StoreResult<uint64_t> get_u64(lmdb::Txn& txn, std::string_view key);
    StoreResult<void> put_u64(lmdb::Txn& txn, std::string_view key, uint64_t v);
    StoreResult<void> add_usage(lmdb::Txn& txn, int64_t delta);

    // The folder's meta, indexing the folder from disk first if the index does not know it
    // (write txn). not_found when the folder directory does not exist.
    StoreResult<FolderMeta> ensure_folder(lmdb::Txn& txn, const std::string& name);

    // Re-reads a folder from disk into the index (write txn): UIDs and flags from file
    // names, keywords/modseq kept from existing records of the same file.
    StoreResult<FolderMeta> reindex_folder(lmdb::Txn& txn, const std::string& name,
                                           RebuildStats& stats);

    // Moves delivered messages from new/ into cur/ and resolves pending records
    // (write txn). Sets `again` when files got new UIDs and stay pending until a second
    // call in a later transaction (a crash in between must not leave an unreserved UID
    // in cur/). Returns the folder meta afterwards.
    StoreResult<FolderMeta> absorb_new(lmdb::Txn& txn, const std::string& name, bool& again);

    // The change log (change_log.cc). log_change records uids at modseq; forget_change
    // drops the entry at modseq if it is a flag change or arrival of `uid` alone (the
    // message changed again, so that entry says nothing any more).
    StoreResult<void> log_change(lmdb::Txn& txn, uint32_t fid, uint64_t modseq, ChangeKind kind,
                                 std::span<const uint32_t> uids);
    StoreResult<void> forget_change(lmdb::Txn& txn, uint32_t fid, uint64_t modseq, uint32_t uid);
    // Entries after `since`, in modseq order: f(modseq, entry); false from f stops.
    StoreResult<void> read_changes(lmdb::Txn& txn, uint32_t fid, uint64_t since,
                                   const std::function<bool(uint64_t, const ChangeEntry&)>& f);
    StoreResult<void> drop_log_and_cache(lmdb::Txn& txn, uint32_t fid);
    // Everything the index keeps for a folder (records, pending, log, cache) is dropped;
    // returns the octets its records held.
    StoreResult<int64_t> drop_folder_records(lmdb::Txn& txn, uint32_t fid);

    // A fresh UIDVALIDITY for a new folder: max(now, last + 1).
    StoreResult<uint32_t> next_uidvalidity(lmdb::Txn& txn);

private:
    UserPaths paths_;
    std::shared_ptr<lmdb::Env> env_;
};

}  // namespace postern
