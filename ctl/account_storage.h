#pragma once
// The mail storage side of `user add`, `user del` and `domain del --force`. Accounts hold
// records only; these commands change the store first and the account second, and undo the
// store's change when the account's fails, so a failure leaves nothing half-done
// (docs/mailctl.md). Every store call goes through the MailStore interface.

#include <memory>
#include <string>
#include <vector>

#include "libmailstore/store.h"

namespace postern::ctl {

// One user whose storage was retired: kept is where the store kept the mail (opaque text
// for "mail kept in ..." and for restore_user), "" when the user had none.
struct RetiredStorage {
    std::string user;
    std::string kept;
};

// Retires each user's storage in order. When one fails, the ones already retired are put
// back (newest first) and the error is returned with *failed naming that user. A user
// without storage is not an error (kept stays "").
StoreResult<std::vector<RetiredStorage>> retire_all(MailStore& store,
                                                    const std::vector<std::string>& users,
                                                    std::string* failed);

// Puts retired storage back, newest first (the account change failed). Returns one
// "mail of U stays in K" phrase per user whose storage could not come back, joined by "; "
// ("" when every one is back).
std::string restore_all(MailStore& store, const std::vector<RetiredStorage>& retired);

}  // namespace postern::ctl
