#pragma once
// The Maildir++ + LMDB implementation of MailStore (internal; use open_maildir_store).
// Its pieces live in maildir_deliver.cc, maildir_folders.cc, maildir_mailbox.cc and
// maildir_store.cc.

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

    StoreResult<uint32_t> deliver(std::string_view user, const MessageSource& msg,
                                  const DeliveryOptions& opts) override;
    std::vector<StoreResult<uint32_t>> deliver_many(std::span<const std::string> users,
                                                    const MessageSource& msg,
                                                    const DeliveryOptions& opts) override;
    std::vector<std::vector<StoreResult<uint32_t>>> deliver_batch(
        std::span<const DeliveryBatchItem> items) override;
    bool has_room(uint64_t bytes) override;
    StoreResult<uint64_t> usage(std::string_view user) override;
    StoreResult<std::unique_ptr<Mailbox>> open_mailbox(std::string_view user,
                                                       std::string_view folder) override;
    StoreResult<std::vector<std::string>> list_folders(std::string_view user) override;
    StoreResult<void> create_folder(std::string_view user, std::string_view folder) override;
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
    StoreResult<TmpFile> write_tmp(const MessageSource& msg, int64_t internal_date);
    void link_batch(UserIndex& idx, std::span<LinkRequest> reqs);

    fs::path data_;
    fs::path tmp_dir_;
    StoreOptions opts_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<UserIndex>> indexes_;
    std::shared_ptr<InotifyHub> watch_hub_;  // made by the first watch(), under mu_
};

// Folder names present on disk for a user: "INBOX" first, then sorted.
StoreResult<std::vector<std::string>> folders_on_disk(const UserPaths& paths);

StoreResult<std::unique_ptr<Mailbox>> open_maildir_mailbox(std::string user, std::string folder,
                                                           std::shared_ptr<UserIndex> idx);

}  // namespace postern
