#pragma once
// The Maildir++ + LMDB implementation of MailStore (internal; use open_maildir_store).
// Its pieces live in maildir_deliver.cc, maildir_folders.cc, maildir_folder_attrs.cc,
// maildir_user.cc, maildir_watch.cc and maildir_store.cc; the Mailbox in maildir_mailbox.h.

#include <map>
#include <mutex>

#include "libmailstore/mailbox_index.h"
#include "libmailstore/store.h"

namespace postern {

class InotifyHub;  // maildir_watch.cc

class MaildirStore final : public MailStore {
public:
    MaildirStore(fs::path data_dir, StoreOptions opts);
    ~MaildirStore() override;  // maildir_watch.cc: stops the watch thread

    StoreResult<Delivered> deliver(std::string_view user, const MessageSource& msg,
                                   const DeliveryOptions& opts) override;
    std::vector<StoreResult<Delivered>> deliver_many(std::span<const std::string> users,
                                                     const MessageSource& msg,
                                                     const DeliveryOptions& opts) override;
    std::vector<std::vector<StoreResult<Delivered>>> deliver_batch(
        std::span<const DeliveryBatchItem> items) override;
    // maildir_deliver.cc
    StoreResult<std::unique_ptr<StagedMessage>> stage_message(std::string_view user) override;
    StoreResult<std::vector<Delivered>> deliver_staged(std::string_view user,
                                                       std::string_view folder,
                                                       std::span<const StagedItem> items) override;
    StoreResult<uint64_t> quota_room(std::string_view user) override;
    bool has_room(uint64_t bytes) override;
    StoreResult<uint64_t> usage(std::string_view user) override;
    StoreResult<void> create_user(std::string_view user) override;  // maildir_user.cc
    StoreResult<void> discard_user(std::string_view user) override;
    StoreResult<std::string> remove_user(std::string_view user) override;
    StoreResult<void> restore_user(std::string_view user, std::string_view kept) override;
    StoreResult<std::unique_ptr<Mailbox>> open_mailbox(std::string_view user,
                                                       std::string_view folder) override;
    // maildir_folder_attrs.cc
    StoreResult<FolderStatus> status(std::string_view user, std::string_view folder) override;
    StoreResult<std::vector<FolderEntry>> folders(std::string_view user) override;
    StoreResult<void> set_special_use(std::string_view user, std::string_view folder,
                                      uint8_t special_use) override;
    StoreResult<void> set_subscribed(std::string_view user, std::string_view folder,
                                     bool subscribed) override;
    StoreResult<std::vector<std::string>> subscriptions(std::string_view user) override;
    // maildir_watch.cc
    StoreResult<std::unique_ptr<FolderWatch>> watch(std::string_view user, std::string_view folder,
                                                    std::function<void()> on_change) override;
    // maildir_folders.cc
    StoreResult<void> create_folder(std::string_view user, std::string_view folder,
                                    uint8_t special_use) override;
    StoreResult<void> delete_folder(std::string_view user, std::string_view folder) override;
    StoreResult<void> rename_folder(std::string_view user, std::string_view from,
                                    std::string_view to) override;
    StoreResult<MaildropLock> try_lock_maildrop(std::string_view user) override;
    StoreResult<RebuildStats> rebuild_index(std::string_view user) override;
    StoreResult<RebuildStats> rebuild_all() override;

    const fs::path& data_dir() const { return data_; }
    // The user's index (opened once and kept while this store lives).
    StoreResult<std::shared_ptr<UserIndex>> index_for(std::string_view user);

private:
    struct TmpFile;
    struct LinkRequest;
    struct Staged;  // a StagedMessage: a TmpFile written piece by piece
    StoreResult<TmpFile> write_tmp(const MessageSource& msg, int64_t internal_date);
    uint64_t quota_of(std::string_view user) const {
        return opts_.quota_of ? opts_.quota_of(user) : 0;
    }
    // all_or_nothing: when one request fails, none is delivered (each gets that error).
    void link_batch(std::string_view user, UserIndex& idx, std::span<LinkRequest> reqs,
                    bool all_or_nothing = false);
    // Drops the user's kept index: its directory was made, retired or brought back.
    void forget_index(const std::string& user);
    void link_batch_once(std::string_view user, UserIndex& idx, std::span<LinkRequest> reqs,
                         bool all_or_nothing);

    fs::path data_;
    fs::path tmp_dir_;
    StoreOptions opts_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<UserIndex>> indexes_;
    std::shared_ptr<InotifyHub> watch_hub_;  // made by the first watch(), under mu_
};

// Folder names present on disk for a user: "INBOX" first, then sorted.
StoreResult<std::vector<std::string>> folders_on_disk(const UserPaths& paths);

StoreResult<std::unique_ptr<Mailbox>> open_maildir_mailbox(
    std::string user, std::string folder, std::shared_ptr<UserIndex> idx,
    std::function<uint64_t(std::string_view)> quota_of);

}  // namespace postern
