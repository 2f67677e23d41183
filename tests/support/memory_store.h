#pragma once
// MailStore in memory: the second complete backend of store.h, for contract tests
// (tests/mailstore/store_contract_*_test.cc run the same suite against it and the Maildir
// store) and for protocol tests that want a fast, deterministic store with faults.
//
// It behaves as the Maildir backend does where store.h leaves room: one mutex over all state;
// a Mailbox handle keeps its own snapshot, changed only by refresh() or by its own flag
// changes and expunges; every change gets a MODSEQ and an entry in the folder's change log
// (one per message's current modseq, tombstones for expunges); keywords compare
// case-insensitively and keep the case first given; create_user makes only INBOX; remove_user
// keeps the mail as "memory:retired/<user>/<n>" for restore_user;
// special-use goes with a folder when it is renamed, subscriptions are names and stay.
// Watch callbacks run on the changing thread after the mutex is released; destroying a
// FolderWatch waits for a callback in progress (so never destroy one inside its callback).
// Handles, locks and watches keep the state alive: they may outlive the MemoryStore.
// Its pieces: memory_core.h (the state), memory_mailbox.cc (handles), memory_store.cc.
//
// Test controls (thread-safe, may be used while other threads use the store):
//   fail_next(e, n)    the next n operations of any kind fail with e
//   fail_on(op, e, n)  the next n calls of the operation named op fail with e
//   set_delay(d)       every operation sleeps d first (the loop must never wait for it)
//   set_capacity(b)    the "disk": has_room() and no_space when b octets are stored
//   calls(op)          how many times op was called
//   prune_log(u, f)    forget the folder's tombstones (as a Maildir reindex does):
//                      changes_since(older) then says vanished_complete = false
// Operation names are the method names of store.h ("deliver", "deliver_many",
// "deliver_batch", "open_mailbox", "refresh", "store_flags", "expunge", "copy_to",
// "try_lock_maildrop", ...), plus "read" for MessageReader::read_at and "staged_write" /
// "staged_finish" for StagedMessage::write / finish. A failing deliver_many
// or deliver_batch fails every one of its results; a failing has_room() says false.

#include <chrono>
#include <memory>
#include <string_view>

#include "libmailstore/store.h"

namespace postern {

struct MemoryCore;

class MemoryStore final : public MailStore {
public:
    explicit MemoryStore(StoreOptions opts = {});
    ~MemoryStore() override;
    MemoryStore(const MemoryStore&) = delete;
    MemoryStore& operator=(const MemoryStore&) = delete;

    StoreResult<Delivered> deliver(std::string_view user, const MessageSource& msg,
                                   const DeliveryOptions& opts = {}) override;
    std::vector<StoreResult<Delivered>> deliver_many(std::span<const std::string> users,
                                                     const MessageSource& msg,
                                                     const DeliveryOptions& opts = {}) override;
    std::vector<std::vector<StoreResult<Delivered>>> deliver_batch(
        std::span<const DeliveryBatchItem> items) override;
    // memory_staged.cc
    StoreResult<std::unique_ptr<StagedMessage>> stage_message(std::string_view user) override;
    StoreResult<std::vector<Delivered>> deliver_staged(std::string_view user,
                                                       std::string_view folder,
                                                       std::span<const StagedItem> items) override;
    StoreResult<uint64_t> quota_room(std::string_view user) override;
    bool has_room(uint64_t bytes) override;
    StoreResult<uint64_t> usage(std::string_view user) override;
    StoreResult<void> create_user(std::string_view user) override;
    StoreResult<void> discard_user(std::string_view user) override;
    StoreResult<std::string> remove_user(std::string_view user) override;
    StoreResult<void> restore_user(std::string_view user, std::string_view kept) override;
    StoreResult<std::unique_ptr<Mailbox>> open_mailbox(std::string_view user,
                                                       std::string_view folder = "INBOX") override;
    StoreResult<FolderStatus> status(std::string_view user, std::string_view folder) override;
    StoreResult<std::unique_ptr<FolderWatch>> watch(std::string_view user, std::string_view folder,
                                                    std::function<void()> on_change) override;
    StoreResult<std::vector<FolderEntry>> folders(std::string_view user) override;
    StoreResult<void> create_folder(std::string_view user, std::string_view folder,
                                    uint8_t special_use = 0) override;
    StoreResult<void> delete_folder(std::string_view user, std::string_view folder) override;
    StoreResult<void> rename_folder(std::string_view user, std::string_view from,
                                    std::string_view to) override;
    StoreResult<void> set_special_use(std::string_view user, std::string_view folder,
                                      uint8_t special_use) override;
    StoreResult<void> set_subscribed(std::string_view user, std::string_view folder,
                                     bool subscribed) override;
    StoreResult<std::vector<std::string>> subscriptions(std::string_view user) override;
    StoreResult<MaildropLock> try_lock_maildrop(std::string_view user) override;
    StoreResult<RebuildStats> rebuild_index(std::string_view user) override;
    StoreResult<RebuildStats> rebuild_all() override;

    // Test controls (see the top of this file).
    void fail_next(StoreError e, int count = 1);
    void fail_on(std::string_view op, StoreError e, int count = 1);
    void set_delay(std::chrono::milliseconds d);
    void set_capacity(uint64_t bytes);
    int calls(std::string_view op) const;
    uint32_t staged_alive() const;  // staged messages not yet destroyed
    StoreResult<void> prune_log(std::string_view user, std::string_view folder);

private:
    std::shared_ptr<MemoryCore> core_;
};

}  // namespace postern
