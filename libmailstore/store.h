#pragma once
// The mail store interface the daemons use: delivery, mailbox snapshots for POP3/IMAP,
// folders, the POP3 maildrop lock and index rebuild. open_maildir_store() returns the
// Maildir++ + LMDB backend (docs/store.md); another backend would implement MailStore too.
//
// Users are canonical "user@domain" strings (Accounts::resolve_login gives them). The store
// does not consult Accounts: a user exists for the store when DATA/<domain>/<local>/Maildir
// exists (made by Accounts::add_user).
//
// Folders: "INBOX" (case-insensitive) is the Maildir root; other folders are named with '/'
// as the hierarchy separator ("Archive/2024") and stored as Maildir++ ".Archive.2024".
// A folder name component may not be empty, start with '.', or contain '.', '/', '\\' or
// control characters (imapd passes modified UTF-7 names through unchanged).
//
// Messages are stored exactly as given: deliver CRLF-terminated bytes (as received by SMTP),
// so sizes are exact RFC 5322 octet counts and RETR/FETCH stream files unchanged.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store_error.h"
#include "libmailstore/unique_fd.h"

namespace postern {

// System flags, a bit set. Keywords are separate strings.
enum Flag : uint8_t {
    flag_seen = 1,
    flag_answered = 2,
    flag_flagged = 4,
    flag_deleted = 8,
    flag_draft = 16,
};

struct MessageInfo {
    uint32_t uid = 0;
    uint64_t size = 0;  // exact octets of the stored file
    uint8_t flags = 0;  // Flag bits
    std::vector<std::string> keywords;
    int64_t internal_date = 0;  // unix seconds
    uint64_t modseq = 0;        // RFC 7162 CONDSTORE
};

enum class FlagOp { set, add, remove };

struct FlagChange {
    FlagOp op = FlagOp::add;
    uint8_t flags = 0;
    std::vector<std::string> keywords;
};

// An open message file: read it with pread/read from offset 0; size octets long.
struct MessageFile {
    UniqueFd fd;
    uint64_t size = 0;
};

// One folder of one user. messages() is a snapshot sorted by uid: it changes only when this
// handle changes something (its own flag changes and expunges show at once) or on refresh().
// Not thread-safe; use one handle per session.
class Mailbox {
public:
    virtual ~Mailbox() = default;
    virtual const std::string& user() const = 0;
    virtual const std::string& folder() const = 0;
    virtual uint32_t uidvalidity() const = 0;
    virtual uint32_t uidnext() const = 0;
    virtual uint64_t highestmodseq() const = 0;
    virtual const std::vector<MessageInfo>& messages() const = 0;
    // nullptr when uid is not in the snapshot. O(log n).
    virtual const MessageInfo* find(uint32_t uid) const = 0;

    // Picks up new mail, other sessions' flag changes and expunges.
    virtual StoreResult<void> refresh() = 0;

    // The message bytes. not_found for a uid never in the snapshot, expunged when the
    // message is gone (removed by another session).
    virtual StoreResult<MessageFile> open_message(uint32_t uid) = 0;
    virtual StoreResult<std::string> read_message(uint32_t uid) = 0;

    // Changes flags/keywords of the given uids (unknown or expunged uids are skipped), each
    // changed message gets a new modseq. The standard flags are also kept in the file name.
    virtual StoreResult<void> store_flags(std::span<const uint32_t> uids,
                                          const FlagChange& change) = 0;
    // Removes the given messages (whatever their \Deleted flag; callers choose which).
    virtual StoreResult<void> expunge(std::span<const uint32_t> uids) = 0;
};

// Where the message bytes come from: a buffer, or size octets of fd starting at offset.
struct MessageSource {
    std::string_view bytes;
    int fd = -1;
    uint64_t offset = 0;
    uint64_t size = 0;

    static MessageSource from_bytes(std::string_view b) { return {b, -1, 0, b.size()}; }
    static MessageSource from_fd(int fd, uint64_t offset, uint64_t size) {
        return {{}, fd, offset, size};
    }
};

struct DeliveryOptions {
    std::string folder = "INBOX";  // not_found if the folder does not exist
    uint8_t flags = 0;             // e.g. flag_seen for IMAP APPEND \Seen
    std::vector<std::string> keywords;
    int64_t internal_date = 0;  // unix seconds; 0: now
    uint64_t quota_bytes = 0;   // the user's quota (Accounts); 0: unlimited
};

// One message of a deliver_batch(): its bytes, the users it goes to (distinct), the options.
struct DeliveryBatchItem {
    std::vector<std::string> users;
    MessageSource msg;
    DeliveryOptions opts;
};

// Held while a POP3 session owns a maildrop; released on destruction (or process exit).
class MaildropLock {
public:
    MaildropLock() = default;
    explicit MaildropLock(UniqueFd fd) : fd_(std::move(fd)) {}
    bool held() const { return bool(fd_); }

private:
    UniqueFd fd_;
};

struct RebuildStats {
    uint32_t folders = 0;
    uint32_t messages = 0;
    uint32_t new_uids = 0;     // files that had no (or a clashing) UID and got a new one
    uint32_t tmp_removed = 0;  // stale tmp/ files removed
};

struct StoreOptions {
    uint64_t disk_reserve_bytes = 256ull * 1024 * 1024;  // config store.disk_reserve_bytes
    uint64_t index_map_size = 256ull * 1024 * 1024;      // per-user LMDB map size
};

class MailStore {
public:
    virtual ~MailStore() = default;

    // Durable delivery into one user's folder; returns the new message's UID. On success
    // the message is on disk (file and directory fsynced) before this returns.
    // Errors: not_found (no such user/folder), over_quota, no_space, temporary, invalid.
    virtual StoreResult<uint32_t> deliver(std::string_view user, const MessageSource& msg,
                                          const DeliveryOptions& opts = {}) = 0;

    // One message to several users (each into opts.folder, quota ignored): the bytes are
    // written and fsynced once, then hard-linked into each maildir. One result per user,
    // in order; a failure for one user does not affect the others.
    virtual std::vector<StoreResult<uint32_t>> deliver_many(std::span<const std::string> users,
                                                            const MessageSource& msg,
                                                            const DeliveryOptions& opts = {}) = 0;

    // Several messages at once (a busy queue's group commit). Item i goes to each of its users
    // as deliver_many() would put it; results[i][j] is item i's result for users[j]. Durable
    // on return, like deliver(). This default delivers item by item; the Maildir store fsyncs
    // all the files in one pass and gives each user one index transaction, one new/ fsync
    // and one commit for all of that user's messages in the batch.
    virtual std::vector<std::vector<StoreResult<uint32_t>>> deliver_batch(
        std::span<const DeliveryBatchItem> items) {
        std::vector<std::vector<StoreResult<uint32_t>>> out;
        out.reserve(items.size());
        for (const auto& it : items) out.push_back(deliver_many(it.users, it.msg, it.opts));
        return out;
    }

    // False when storing `bytes` more would leave less than disk_reserve_bytes free on the
    // data file system (smtpd answers 452 4.3.1 then).
    virtual bool has_room(uint64_t bytes) = 0;

    // Total octets of all the user's messages in all folders (for quota display).
    virtual StoreResult<uint64_t> usage(std::string_view user) = 0;

    virtual StoreResult<std::unique_ptr<Mailbox>> open_mailbox(
        std::string_view user, std::string_view folder = "INBOX") = 0;

    // Folder names, "INBOX" first, then sorted.
    virtual StoreResult<std::vector<std::string>> list_folders(std::string_view user) = 0;
    virtual StoreResult<void> create_folder(std::string_view user, std::string_view folder) = 0;
    // Deletes the folder and its messages; invalid for INBOX, not_empty with subfolders.
    virtual StoreResult<void> delete_folder(std::string_view user, std::string_view folder) = 0;
    // Renames (with subfolders); keeps UIDVALIDITY and UIDs. Renaming INBOX is invalid.
    virtual StoreResult<void> rename_folder(std::string_view user, std::string_view from,
                                            std::string_view to) = 0;

    // POP3 exclusive access: in_use when another holder has it (non-blocking flock).
    virtual StoreResult<MaildropLock> try_lock_maildrop(std::string_view user) = 0;

    // Rebuilds the user's index from the maildir files (UIDs and flags from file names).
    virtual StoreResult<RebuildStats> rebuild_index(std::string_view user) = 0;
    // Every user of every domain under the data dir.
    virtual StoreResult<RebuildStats> rebuild_all() = 0;
};

// The Maildir++ + LMDB backend rooted at the data dir (config data_dir).
StoreResult<std::unique_ptr<MailStore>> open_maildir_store(const std::filesystem::path& data_dir,
                                                           const StoreOptions& opts = {});

}  // namespace postern
