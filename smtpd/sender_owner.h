#pragma once
// Who may send as whom on an authenticated session: the envelope sender (MAIL FROM) and
// the From: header's addresses must be the authenticated user's own address or an alias
// whose expansion reaches that user's mailbox (a list alias: every member may send as it).
// A catch-all does not make its owner the owner of every address of the domain.

#include <cstdint>
#include <string_view>

#include "libmailstore/accounts.h"

namespace postern {

enum class SenderOwnership : uint8_t { owned, not_owned, temp_failure };

// Cheap and non-blocking: true when `address` is `user` itself (both compared canonical,
// "Alice@Example.TEST" is alice@example.test). No lookup needed then.
bool sender_is_user(std::string_view user, std::string_view address);

// Blocking (accounts lookups): run it on the pool. temp_failure when the accounts could
// not be read (451 then, never a wrong 5xx).
SenderOwnership sender_owner(Accounts& accounts, std::string_view user, std::string_view address);

}  // namespace postern
