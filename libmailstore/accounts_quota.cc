#include "libmailstore/accounts.h"

namespace postern {

std::function<uint64_t(std::string_view)> quota_lookup(std::shared_ptr<Accounts> accounts) {
    return [accounts = std::move(accounts)](std::string_view user) -> uint64_t {
        auto u = accounts->get_user(user);
        return u ? u->quota_bytes : 0;
    };
}

}  // namespace postern
