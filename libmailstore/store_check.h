#pragma once
// The store's part of `mailctl check`: every LMDB database under the data dir opened
// read-only (nothing is created, not even a lock file) and read through.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace postern {

// The named databases of a user's index (mailbox_index.h), for opening it read-only.
const std::vector<std::string>& index_db_names();

// "local@domain" for every user directory on disk (DATA/<domain>/<local>/Maildir), sorted;
// .deleted-* and other foreign names are skipped, as rebuild_all skips them.
std::vector<std::string> users_on_disk(const std::filesystem::path& data_dir);

// One line naming the file when the user's index is empty, truncated or damaged (LMDB would
// crash or start it anew), else "". An index not made yet is fine.
std::string index_problem(const std::filesystem::path& data_dir, const std::string& user);

// One line per problem, empty when all is well: the accounts database (missing, lost,
// damaged, unreadable records, users without a maildir) and every user's index on disk.
std::vector<std::string> check_store(const std::filesystem::path& data_dir,
                                     uint64_t accounts_map_size, uint64_t index_map_size);

}  // namespace postern
