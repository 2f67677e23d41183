#pragma once
// The backend `store.backend` names: "maildir" (Maildir++ + LMDB, the default) is the only
// one built in today; a backend on a database server would be added here.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"

namespace postern {

std::span<const std::string_view> store_backends();  // the names open_store knows
// "" for a known name, else one line for the operator naming the known ones.
std::string backend_problem(std::string_view name);

// invalid for an unknown backend name; otherwise the backend's own open errors.
StoreResult<std::unique_ptr<MailStore>> open_store(std::string_view backend,
                                                   const std::filesystem::path& data_dir,
                                                   const StoreOptions& opts);

// What a daemon opens at start-up: the accounts and one store over the same data directory,
// with quotas looked up in those accounts (StoreOptions::quota_of).
struct MailData {
    std::shared_ptr<Accounts> accounts;
    std::unique_ptr<MailStore> store;
};
struct MailDataSettings {  // the [store] settings a daemon passes on
    std::string_view backend;
    uint64_t disk_reserve_bytes = 0;
    uint64_t lmdb_map_size = 0;
};
// Errors are one line for the operator ("cannot open accounts in DIR: ...").
std::expected<MailData, std::string> open_mail_data(const std::filesystem::path& data_dir,
                                                    const MailDataSettings& settings);

}  // namespace postern
