#pragma once
// The mail store interface the daemons use: delivery, folder snapshots for POP3/IMAP with a
// change log (MODSEQ), folder watches, COPY/MOVE, folders with special-use and subscriptions,
// the POP3 maildrop lock, per-user storage and index rebuild. open_maildir_store() returns
// the Maildir++ + LMDB backend (docs/store.md); tests/support/memory_store.h is the second,
// in-memory one. Nothing here names a file descriptor, a path or a Maildir notion: a message
// is a readable stream, a lock an opaque handle, so a backend on a database can implement it
// (docs/store.md says what a third backend must provide).
//
// Users are canonical "user@domain" strings (Accounts::resolve_login gives them). The store
// does not consult Accounts except through StoreOptions::quota_of.
//
// Folders: "INBOX" (case-insensitive) is the root folder; other folders are named with '/'
// as the hierarchy separator ("Archive/2024"). A folder name component may not be empty,
// start with '.', or contain '.', '/', '\\' or control characters (imapd passes modified
// UTF-7 names through unchanged).
//
// Messages are stored exactly as given: deliver CRLF-terminated bytes (as received by SMTP),
// so sizes are exact RFC 5322 octet counts and RETR/FETCH stream them unchanged.
//
// Threads: a MailStore may be used from several threads at once; a Mailbox handle is used by
// one thread at a time (one handle per session).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store_error.h"

namespace postern {

// System flags, a bit set. Keywords are separate strings.
enum Flag : uint8_t {
    flag_seen = 1,
    flag_answered = 2,
    flag_flagged = 4,
    flag_deleted = 8,
    flag_draft = 16,
};
constexpr uint8_t all_flags = flag_seen | flag_answered | flag_flagged | flag_deleted | flag_draft;

// RFC 6154 special-use attributes of a folder, a bit set.
enum SpecialUse : uint8_t {
    use_all = 1,
    use_archive = 2,
    use_drafts = 4,
    use_flagged = 8,
    use_junk = 16,
    use_sent = 32,
    use_trash = 64,
};

// One message in a snapshot: 8 bytes, so a session's view of a large folder stays small.
// Everything else (size, date, modseq) is read on demand with Mailbox::info().
struct MessageEntry {
    uint32_t uid = 0;
    uint8_t flags = 0;  // Flag bits
    uint8_t reserved = 0;
    uint16_t keywords = 0;  // Mailbox::keywords_of() names them; 0: none
};
static_assert(sizeof(MessageEntry) == 8);

// A message's metadata, read on demand.
struct MessageInfo {
    uint32_t uid = 0;
    uint64_t size = 0;  // exact octets
    uint8_t flags = 0;  // Flag bits
    std::vector<std::string> keywords;
    int64_t internal_date = 0;  // unix seconds
    uint64_t modseq = 0;        // RFC 7162: the modseq of its last change
};

enum class FlagOp { set, add, remove };

struct FlagChange {
    FlagOp op = FlagOp::add;
    uint8_t flags = 0;
    std::vector<std::string> keywords;
};

// A message's octets: read them at any offset, in any order.
class MessageReader {
public:
    virtual ~MessageReader() = default;
    virtual uint64_t size() const = 0;
    // Up to buf.size() octets from offset; 0 at or past the end.
    virtual StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) = 0;
};

// Reads all of a message (for tests and small messages; sessions stream with read_at).
StoreResult<std::string> read_all(MessageReader& r);

// What refresh() found changed between the handle's previous snapshot and the new one,
// each list ascending. expunged: UIDs that were in the old snapshot and are gone; added: in
// the new one only; changed: in both, with other flags or keywords.
struct MailboxDelta {
    std::vector<uint32_t> expunged;
    std::vector<uint32_t> added;
    std::vector<uint32_t> changed;
    bool empty() const { return expunged.empty() && added.empty() && changed.empty(); }
};

// What changed in the folder after a MODSEQ (CONDSTORE CHANGEDSINCE, QRESYNC), from the
// folder's change log, not from a snapshot. changed: messages there now whose last change
// (or arrival) is after it; vanished: UIDs expunged after it. Both ascending.
// vanished_complete is false when the log no longer reaches back that far (old tombstones
// are pruned): vanished then lists only what the log still knows, and a QRESYNC client
// must be told with its known-UIDs set instead.
struct FolderChanges {
    uint64_t highestmodseq = 0;
    std::vector<uint32_t> changed;
    std::vector<uint32_t> vanished;
    bool vanished_complete = true;
};

// COPY/MOVE result (RFC 4315 COPYUID): source UIDs and the new UIDs in the destination, in
// the same order, ascending by source UID. Source UIDs no longer there are left out.
struct UidMap {
    uint32_t uidvalidity = 0;  // the destination's
    std::vector<uint32_t> from;
    std::vector<uint32_t> to;
};

// A delivered message (RFC 4315 APPENDUID).
struct Delivered {
    uint32_t uidvalidity = 0;
    uint32_t uid = 0;
};

// One message's cache slot content, for Mailbox::cache_put_many.
struct CacheSlot {
    uint32_t uid = 0;
    std::string data;
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
    virtual std::span<const MessageEntry> messages() const = 0;
    // nullptr when uid is not in the snapshot. O(log n).
    virtual const MessageEntry* find(uint32_t uid) const = 0;
    // The keywords of a snapshot entry.
    virtual const std::vector<std::string>& keywords_of(const MessageEntry& m) const = 0;
    // Keywords in use in this folder (IMAP FLAGS / PERMANENTFLAGS).
    virtual std::vector<std::string> folder_keywords() const = 0;

    // Metadata of the given snapshot UIDs, in that order; UIDs not in the snapshot or
    // expunged meanwhile are left out.
    virtual StoreResult<std::vector<MessageInfo>> info(std::span<const uint32_t> uids) = 0;
    StoreResult<MessageInfo> info(uint32_t uid);  // not_found / expunged when not there

    // Picks up new mail, other sessions' flag changes and expunges; O(changes).
    virtual StoreResult<MailboxDelta> refresh() = 0;
    // From the change log, whatever this snapshot holds.
    virtual StoreResult<FolderChanges> changes_since(uint64_t modseq) = 0;

    // The message's octets. not_found for a uid never in the snapshot, expunged when the
    // message is gone (removed by another session).
    virtual StoreResult<std::unique_ptr<MessageReader>> open_message(uint32_t uid) = 0;
    StoreResult<std::string> read_message(uint32_t uid);

    // Changes flags/keywords of the given uids (unknown or expunged uids are skipped); each
    // changed message gets a new modseq. unchanged_since (RFC 7162 UNCHANGEDSINCE, 0: none):
    // a message whose modseq is above it is left alone and its UID returned ("MODIFIED").
    virtual StoreResult<std::vector<uint32_t>> store_flags(std::span<const uint32_t> uids,
                                                           const FlagChange& change,
                                                           uint64_t unchanged_since = 0) = 0;
    // Removes the given messages (whatever their \Deleted flag; callers choose which).
    // Durable on return.
    virtual StoreResult<void> expunge(std::span<const uint32_t> uids) = 0;

    // Copies the messages into another folder of the same user, keeping internal date, flags
    // and keywords; all or nothing, durable on return. Quota applies. move_to also expunges
    // them here (RFC 6851): a reader may see a message in both folders for a moment, never
    // in neither.
    virtual StoreResult<UidMap> copy_to(std::span<const uint32_t> uids,
                                        std::string_view folder) = 0;
    virtual StoreResult<UidMap> move_to(std::span<const uint32_t> uids,
                                        std::string_view folder) = 0;

    // A per-message slot for what a protocol computes once (IMAP envelope, body structure).
    // get gives nullopt when empty or written with another version; both are best effort.
    virtual StoreResult<std::optional<std::string>> cache_get(uint32_t uid, uint32_t version) = 0;
    virtual StoreResult<void> cache_put(uint32_t uid, uint32_t version, std::string_view data) = 0;
    // Several slots at once, as one write where the backend can (Maildir: one LMDB commit,
    // one sync, instead of one per message): what a FETCH or SEARCH round parsed. Entries
    // of messages that are gone are skipped. The default calls cache_put for each.
    virtual StoreResult<void> cache_put_many(uint32_t version, std::span<const CacheSlot> slots);
};

// Where the message bytes of a delivery come from: a buffer or a reader.
struct MessageSource {
    std::string_view bytes;
    MessageReader* reader = nullptr;  // not owned; all of it is the message

    static MessageSource from_bytes(std::string_view b) { return {b, nullptr}; }
    static MessageSource from_reader(MessageReader& r) { return {{}, &r}; }
    uint64_t size() const { return reader != nullptr ? reader->size() : bytes.size(); }
};

struct DeliveryOptions {
    std::string folder = "INBOX";  // not_found if the folder does not exist
    uint8_t flags = 0;             // e.g. flag_seen for IMAP APPEND \Seen
    std::vector<std::string> keywords;
    int64_t internal_date = 0;  // unix seconds; 0: now
};

// A message written in pieces as it arrives (IMAP APPEND streams its literal), staged where
// the store can deliver it without a second copy (Maildir: a file in DATA/tmp that is
// hard-linked into place). Nothing is visible in any folder until deliver_staged().
// Destroying it removes what was written (delivered or not): a session that goes away
// mid-literal leaves nothing behind. One thread at a time; do the I/O off the event loop.
class StagedMessage {
public:
    virtual ~StagedMessage() = default;
    // Appends bytes; errors: no_space, temporary.
    virtual StoreResult<void> write(std::string_view bytes) = 0;
    // All bytes written: makes them durable (fsync); no write() after it.
    virtual StoreResult<void> finish() = 0;
    virtual uint64_t size() const = 0;  // octets written so far
};

// One staged message of a deliver_staged() and what it keeps.
struct StagedItem {
    StagedMessage* msg = nullptr;  // finished, from this store's stage_message()
    uint8_t flags = 0;
    std::vector<std::string> keywords;
    int64_t internal_date = 0;  // unix seconds; 0: now
};

// One message of a deliver_batch(): its bytes, the users it goes to (distinct), the options.
struct DeliveryBatchItem {
    std::vector<std::string> users;
    MessageSource msg;
    DeliveryOptions opts;
};

// A held lock, released when destroyed (or when the process ends).
class StoreLock {
public:
    virtual ~StoreLock() = default;
};

// Held while a POP3 session owns a maildrop.
class MaildropLock {
public:
    MaildropLock() = default;
    explicit MaildropLock(std::unique_ptr<StoreLock> l) : lock_(std::move(l)) {}
    bool held() const { return lock_ != nullptr; }

private:
    std::unique_ptr<StoreLock> lock_;
};

// A folder watch: on_change runs soon (within a second) after any process changes the
// folder (new message, flags, expunge), until this is destroyed. It runs on a thread of the
// store's (or the changing thread), possibly once for several changes; it must not call
// back into the store: post to your loop and refresh() there.
class FolderWatch {
public:
    virtual ~FolderWatch() = default;
};

struct FolderEntry {
    std::string name;
    uint8_t special_use = 0;  // SpecialUse bits
    bool subscribed = false;
    bool has_children = false;
};

// RFC 3501 STATUS and RFC 7162 HIGHESTMODSEQ, without opening a snapshot.
struct FolderStatus {
    uint32_t messages = 0;
    uint32_t unseen = 0;
    uint32_t uidnext = 0;
    uint32_t uidvalidity = 0;
    uint64_t highestmodseq = 0;
    uint64_t size = 0;  // octets
};

struct RebuildStats {
    uint32_t folders = 0;
    uint32_t messages = 0;
    uint32_t new_uids = 0;     // files that had no (or a clashing) UID and got a new one
    uint32_t tmp_removed = 0;  // stale tmp/ files removed
};

struct StoreOptions {
    uint64_t disk_reserve_bytes = 256ull * 1024 * 1024;  // config store.disk_reserve_bytes
    uint64_t index_map_size = 64ull * 1024 * 1024;       // a user's first LMDB map; it grows
    // The user's quota in octets (0: unlimited), asked on every delivery, APPEND and COPY.
    // Daemons wire it to Accounts; unset: no quotas.
    std::function<uint64_t(std::string_view user)> quota_of;
};

class MailStore {
public:
    virtual ~MailStore() = default;

    // Durable delivery into one user's folder. On success the message is on stable storage
    // before this returns. Errors: not_found (no such user/folder), over_quota, no_space,
    // temporary, invalid.
    virtual StoreResult<Delivered> deliver(std::string_view user, const MessageSource& msg,
                                           const DeliveryOptions& opts = {}) = 0;

    // One message to several users (each into opts.folder): written once, then shared. One
    // result per user, in order; a failure for one user does not affect the others.
    virtual std::vector<StoreResult<Delivered>> deliver_many(std::span<const std::string> users,
                                                             const MessageSource& msg,
                                                             const DeliveryOptions& opts = {}) = 0;

    // Several messages at once (a busy queue's group commit). Item i goes to each of its
    // users as deliver_many() would put it; results[i][j] is item i's result for users[j].
    // Durable on return, like deliver(). This default delivers item by item; the Maildir
    // store syncs all the files in one pass and gives each user one index commit.
    virtual std::vector<std::vector<StoreResult<Delivered>>> deliver_batch(
        std::span<const DeliveryBatchItem> items) {
        std::vector<std::vector<StoreResult<Delivered>>> out;
        out.reserve(items.size());
        for (const auto& it : items) out.push_back(deliver_many(it.users, it.msg, it.opts));
        return out;
    }

    // A new, empty staged message for the user (stage_message does not look the user up;
    // deliver_staged does).
    virtual StoreResult<std::unique_ptr<StagedMessage>> stage_message(std::string_view user) = 0;
    // Delivers finished staged messages into one folder of one user, all or nothing
    // (RFC 3502 MULTIAPPEND): on success one Delivered per item, in order, with ascending
    // UIDs, durable on return; on any error none of them is in the folder. Quota counts
    // them together. Errors: not_found (user or folder), over_quota, no_space, invalid (an
    // unfinished message or one from another store), temporary. The staged messages stay
    // the caller's; destroy them afterwards.
    virtual StoreResult<std::vector<Delivered>> deliver_staged(
        std::string_view user, std::string_view folder, std::span<const StagedItem> items) = 0;

    // Octets the user may still store before the quota is reached (UINT64_MAX: no quota);
    // 0 when at or over it. IMAP refuses an APPEND literal above it before it is sent.
    virtual StoreResult<uint64_t> quota_room(std::string_view user) = 0;

    // False when storing `bytes` more would leave less than disk_reserve_bytes free
    // (smtpd answers 452 4.3.1 then).
    virtual bool has_room(uint64_t bytes) = 0;

    // Total octets of all the user's messages in all folders (quota use).
    virtual StoreResult<uint64_t> usage(std::string_view user) = 0;

    // A user's storage. Accounts never touch it: mailctl calls these around the account
    // change and undoes them when that fails (docs/store.md, "Users' storage").
    // create_user makes it empty with an INBOX: exists when there already is some (an
    // earlier owner's mail must never reach a new one); a failure leaves nothing behind.
    virtual StoreResult<void> create_user(std::string_view user) = 0;
    // Undoes create_user: removes the user's storage while it holds no message (not_empty
    // otherwise, and nothing is removed); not_found when there is none.
    virtual StoreResult<void> discard_user(std::string_view user) = 0;
    // Retires the storage: its mail is kept aside under a unique name, never reused by a later
    // user of the same name. Returns where it was kept, an opaque text for the operator
    // ("mail kept in ...") that restore_user takes back; not_found when there is none.
    virtual StoreResult<std::string> remove_user(std::string_view user) = 0;
    // Undoes remove_user: puts the storage kept in `kept` back as the user's. invalid when
    // `kept` is not where this user's storage was kept, not_found when nothing is kept there
    // (any more), exists when the user has storage again.
    virtual StoreResult<void> restore_user(std::string_view user, std::string_view kept) = 0;

    virtual StoreResult<std::unique_ptr<Mailbox>> open_mailbox(
        std::string_view user, std::string_view folder = "INBOX") = 0;
    virtual StoreResult<FolderStatus> status(std::string_view user, std::string_view folder) = 0;
    virtual StoreResult<std::unique_ptr<FolderWatch>> watch(std::string_view user,
                                                            std::string_view folder,
                                                            std::function<void()> on_change) = 0;

    // Folders, "INBOX" first, then sorted by name.
    virtual StoreResult<std::vector<FolderEntry>> folders(std::string_view user) = 0;
    StoreResult<std::vector<std::string>> list_folders(std::string_view user);  // names only
    virtual StoreResult<void> create_folder(std::string_view user, std::string_view folder,
                                            uint8_t special_use = 0) = 0;
    // Deletes the folder and its messages; invalid for INBOX, not_empty with subfolders.
    virtual StoreResult<void> delete_folder(std::string_view user, std::string_view folder) = 0;
    // Renames (with subfolders); keeps UIDVALIDITY and UIDs. Renaming INBOX is invalid.
    virtual StoreResult<void> rename_folder(std::string_view user, std::string_view from,
                                            std::string_view to) = 0;
    virtual StoreResult<void> set_special_use(std::string_view user, std::string_view folder,
                                              uint8_t special_use) = 0;
    // Subscriptions are names (RFC 3501 allows subscribing to a folder that does not exist).
    virtual StoreResult<void> set_subscribed(std::string_view user, std::string_view folder,
                                             bool subscribed) = 0;
    virtual StoreResult<std::vector<std::string>> subscriptions(std::string_view user) = 0;

    // POP3 exclusive access: in_use when another holder has it (never blocks).
    virtual StoreResult<MaildropLock> try_lock_maildrop(std::string_view user) = 0;

    // Rebuilds the user's index from the stored messages (a backend without a separate index
    // has nothing to do).
    virtual StoreResult<RebuildStats> rebuild_index(std::string_view user) = 0;
    // Every user.
    virtual StoreResult<RebuildStats> rebuild_all() = 0;
};

// The Maildir++ + LMDB backend rooted at the data dir (config data_dir).
StoreResult<std::unique_ptr<MailStore>> open_maildir_store(const std::filesystem::path& data_dir,
                                                           const StoreOptions& opts = {});

}  // namespace postern
