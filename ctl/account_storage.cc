// Retiring users' storage all-or-nothing, and putting it back (account_storage.h).
#include "ctl/account_storage.h"

namespace postern::ctl {

StoreResult<std::vector<RetiredStorage>> retire_all(MailStore& store,
                                                    const std::vector<std::string>& users,
                                                    std::string* failed) {
    std::vector<RetiredStorage> done;
    for (const auto& u : users) {
        auto kept = store.remove_user(u);
        if (!kept && kept.error() != StoreError::not_found) {
            (void)restore_all(store, done);
            if (failed) *failed = u;
            return std::unexpected(kept.error());
        }
        done.push_back({u, kept ? std::move(*kept) : std::string()});
    }
    return done;
}

std::string restore_all(MailStore& store, const std::vector<RetiredStorage>& retired) {
    std::string stuck;
    for (auto it = retired.rbegin(); it != retired.rend(); ++it) {
        if (it->kept.empty() || store.restore_user(it->user, it->kept)) continue;
        stuck += (stuck.empty() ? "" : "; ") + ("mail of " + it->user + " stays in " + it->kept);
    }
    return stuck;
}

}  // namespace postern::ctl
