#pragma once
// The backend `store.backend` names: "maildir" (Maildir++ + LMDB, the default) is the only
// one built in today; a backend on a database server would be added here.

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "libmailstore/store.h"

namespace postern {

std::span<const std::string_view> store_backends();  // the names open_store knows
// "" for a known name, else one line for the operator naming the known ones.
std::string backend_problem(std::string_view name);

// invalid for an unknown backend name; otherwise the backend's own open errors.
StoreResult<std::unique_ptr<MailStore>> open_store(std::string_view backend,
                                                   const std::filesystem::path& data_dir,
                                                   const StoreOptions& opts);

}  // namespace postern
