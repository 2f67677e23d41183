#pragma once
// A user's Maildir storage, DATA/<domain>/<local> (Maildir/ and index/, maildir_layout.h):
// made, discarded, retired and brought back. MaildirStore::create_user, discard_user,
// remove_user and restore_user are these; Accounts never calls them (mailctl orders the
// storage and the account change, docs/store.md).

#include <filesystem>

#include "libmailstore/address.h"
#include "libmailstore/store_error.h"

namespace postern {

// Makes the directory with the default folders (INBOX, Drafts, Sent, Trash, Junk, the last
// four with their special-use). exists when something is already there that is not an
// empty directory (an earlier owner's mail must never reach a new one); anything else that
// fails leaves nothing behind.
StoreResult<void> make_user_storage(const std::filesystem::path& data_dir, const Address& a);
// Removes what make_user_storage made while no folder holds a message file (in cur, new or
// tmp): not_empty otherwise (nothing removed), not_found when there is no directory.
StoreResult<void> discard_user_storage(const std::filesystem::path& data_dir, const Address& a);

// Moves the directory aside to DATA/<domain>/.deleted-<local>-<unixtime>-<8 random hex
// digits> with a rename that never replaces anything (a new name on a clash), and returns
// where it went: an empty path when there was none. The error of the move otherwise.
StoreResult<std::filesystem::path> retire_user_storage(const std::filesystem::path& data_dir,
                                                       const Address& a);
// Moves a retired directory back. invalid when `retired` is not one of a's retired
// directories (DATA/<domain>/.deleted-<local>-...), not_found when it is not there, exists
// when a has a directory again; the error of the rename otherwise (logged).
StoreResult<void> restore_user_storage(const std::filesystem::path& data_dir, const Address& a,
                                       const std::filesystem::path& retired);

}  // namespace postern
