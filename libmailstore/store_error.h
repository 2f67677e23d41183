#pragma once
// The store's closed set of errors. Every libmailstore function that can fail returns
// StoreResult<T> (std::expected<T, StoreError>); nothing throws across the library boundary.
// Daemons map these to protocol replies in one place each (e.g. temporary -> 451 4.3.0,
// no_space -> 452 4.3.1, over_quota -> 552 5.2.2 / NO [OVERQUOTA], in_use -> -ERR [IN-USE]).

#include <expected>

namespace postern {

enum class StoreError {
    not_found,   // no such domain, user, alias, folder or message
    exists,      // already there (domain, user, alias, folder)
    invalid,     // bad name, address, folder name or argument
    not_empty,   // refused: domain still has users/aliases, folder has subfolders
    temporary,   // I/O or LMDB failure that may go away: retry later
    no_space,    // disk (or LMDB map) full
    over_quota,  // the user's quota would be exceeded
    in_use,      // maildrop locked by another session
    corrupt,     // on-disk data could not be understood (run `mailctl index rebuild`)
    expunged,    // the message was removed after the snapshot was taken
    loop,        // alias expansion loops or nests too deep
};

// A short lowercase English text for logs and ctl output ("not found", "over quota", ...).
const char* describe(StoreError e);

template <class T>
using StoreResult = std::expected<T, StoreError>;

}  // namespace postern
