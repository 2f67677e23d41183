#pragma once
// Where things live under the data dir, and the small file-system helpers the store uses.
//   DATA/<domain>/<local>/Maildir/            INBOX (cur new tmp) + postern-uidvalidity
//   DATA/<domain>/<local>/Maildir/.A.B/       folder "A/B" (Maildir++)
//   DATA/<domain>/<local>/index/              the user's LMDB index (a rebuildable cache)
//   DATA/<domain>/<local>/maildrop.lock       POP3 exclusive-access lock
//   DATA/tmp/                                 delivery temp files (hard-linked into maildirs)

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store_error.h"

namespace postern {

namespace fs = std::filesystem;

struct UserPaths {
    fs::path root;     // DATA/<domain>/<local>
    fs::path maildir;  // root/Maildir
    fs::path index;    // root/index
};

// invalid for a malformed user, not_found when the maildir does not exist (if must_exist).
StoreResult<UserPaths> user_paths(const fs::path& data_dir, std::string_view user,
                                  bool must_exist = true);

// "inbox" -> "INBOX", "INBOX/x" keeps the rest. invalid for bad names (see store.h).
StoreResult<std::string> canonical_folder(std::string_view folder);
// "INBOX" -> "" ; "A/B" -> ".A.B" (the folder's directory below the maildir).
std::string folder_dir_name(const std::string& canonical);
// ".A.B" -> "A/B"; nullopt if not a folder directory.
std::optional<std::string> folder_from_dir_name(std::string_view dir);
fs::path folder_path(const UserPaths& paths, const std::string& canonical);

// The standard folders every user gets.
const std::vector<std::string>& default_folders();

// Makes dir/{cur,new,tmp} and dir/postern-uidvalidity, fsyncs them (exists if present).
StoreResult<void> create_maildir_folder(const fs::path& dir, uint32_t uidvalidity, bool is_inbox);
// Creates DATA/<domain>/<local>/Maildir with the default folders.
StoreResult<void> create_user_maildir(const fs::path& data_dir, std::string_view local,
                                      std::string_view domain);

// The folder's "postern-uidvalidity" file: "<uidvalidity> <uidnext floor>". The floor is
// written at expunge, so a rebuild after losing the index never reuses the UID of an
// expunged last message. Returns 0 (and *uidnext 0) when missing or unreadable.
uint32_t read_uidvalidity(const fs::path& folder_dir, uint32_t* uidnext = nullptr);
StoreResult<void> write_uidvalidity(const fs::path& folder_dir, uint32_t uidvalidity,
                                    uint32_t uidnext = 0);

StoreResult<void> fsync_path(const fs::path& p);  // a directory or file
StoreError errno_to_store_error(int err);

// Names in a directory (no "." / ".."); not_found if it does not exist. No stat calls.
StoreResult<std::vector<std::string>> list_dir(const fs::path& dir);

// Removes files in dir older than max_age_seconds; returns how many.
uint32_t clean_stale_tmp(const fs::path& dir, int64_t max_age_seconds = 36 * 3600);

}  // namespace postern
