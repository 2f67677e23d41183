#pragma once
// A user's Maildir storage, DATA/<domain>/<local> (Maildir/ and index/, maildir_layout.h):
// made, discarded, retired and brought back. The one implementation behind
// MaildirStore::create_user/remove_user and Accounts' add_user/del_user/del_domain (which
// run these inside their transaction, so a failed step leaves no half-made account).

#include <filesystem>

#include "libmailstore/address.h"
#include "libmailstore/store_error.h"

namespace postern {

// Makes the directory with the default folders (INBOX, Drafts, Sent, Trash, Junk, the last
// four with their special-use). exists when something is already there that is not an
// empty directory (an earlier owner's mail must never reach a new one); anything else that
// fails leaves nothing behind.
StoreResult<void> make_user_storage(const std::filesystem::path& data_dir, const Address& a);
// Removes what make_user_storage made (its caller's transaction failed).
void discard_user_storage(const std::filesystem::path& data_dir, const Address& a);

// Moves the directory aside to DATA/<domain>/.deleted-<local>-<unixtime>-<8 random hex
// digits> with a rename that never replaces anything (a new name on a clash), and returns
// where it went: an empty path when there was none. The error of the move otherwise.
StoreResult<std::filesystem::path> retire_user_storage(const std::filesystem::path& data_dir,
                                                       const Address& a);
// Moves a retired directory back (its caller's transaction failed); logs when it cannot.
void restore_user_storage(const std::filesystem::path& data_dir, const Address& a,
                          const std::filesystem::path& retired);

}  // namespace postern
