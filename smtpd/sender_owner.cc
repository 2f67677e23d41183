#include "smtpd/sender_owner.h"

#include <algorithm>

#include "libmailstore/address.h"

namespace postern {

bool sender_is_user(std::string_view user, std::string_view address) {
    auto a = normalize_address(address);
    auto u = normalize_address(user);
    return a && u && *a == *u;
}

SenderOwnership sender_owner(Accounts& accounts, std::string_view user, std::string_view address) {
    auto a = normalize_address(address);
    auto u = normalize_address(user);
    if (!a || !u) return SenderOwnership::not_owned;
    if (*a == *u) return SenderOwnership::owned;
    auto kind = accounts.resolve_recipient(*a);
    if (!kind) {
        return kind.error() == StoreError::not_found || kind.error() == StoreError::invalid
                   ? SenderOwnership::not_owned
                   : SenderOwnership::temp_failure;
    }
    if (*kind != RecipientKind::alias) return SenderOwnership::not_owned;
    auto ex = accounts.expand_recipient(*a);
    if (!ex) {
        return ex.error() == StoreError::not_found || ex.error() == StoreError::loop ||
                       ex.error() == StoreError::invalid
                   ? SenderOwnership::not_owned
                   : SenderOwnership::temp_failure;
    }
    const auto& boxes = ex->local_mailboxes;
    return std::find(boxes.begin(), boxes.end(), *u) != boxes.end() ? SenderOwnership::owned
                                                                    : SenderOwnership::not_owned;
}

}  // namespace postern
