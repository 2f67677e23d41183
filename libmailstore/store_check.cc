#include "libmailstore/store_check.h"

#include <algorithm>

#include "libmailstore/accounts.h"
#include "libmailstore/address.h"
#include "libmailstore/lmdb_env.h"
#include "libmailstore/maildir_layout.h"

namespace postern {

const std::vector<std::string>& index_db_names() {
    static const std::vector<std::string> names{"meta", "folders", "msgs", "pending"};
    return names;
}

std::vector<std::string> users_on_disk(const fs::path& data_dir) {
    std::vector<std::string> out;
    auto domains = list_dir(data_dir);
    if (!domains) return out;
    for (const auto& d : *domains) {
        auto nd = normalize_domain(d);
        if (!nd || *nd != d) continue;  // accounts, tmp, ...
        auto locals = list_dir(data_dir / d);
        if (!locals) continue;
        for (const auto& l : *locals) {
            auto nl = normalize_local_part(l);
            std::error_code ec;
            if (!nl || *nl != l || !fs::is_directory(data_dir / d / l / "Maildir", ec)) continue;
            out.push_back(l + "@" + d);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string index_problem(const fs::path& data_dir, const std::string& user) {
    auto paths = user_paths(data_dir, user, false);
    if (!paths) return "";
    auto fc = lmdb::check_data_file(paths->index);
    switch (fc.state) {
    case lmdb::FileCheck::ok:
    case lmdb::FileCheck::missing: return "";
    default: return fc.why;
    }
}

std::vector<std::string> check_store(const fs::path& data_dir, uint64_t accounts_map_size,
                                     uint64_t index_map_size) {
    std::vector<std::string> out;
    if (auto why = Accounts::open_problem(data_dir, Accounts::Open::read_only); !why.empty()) {
        out.push_back(why);
    } else if (auto acc = Accounts::open(data_dir, accounts_map_size, Accounts::Open::read_only);
               !acc) {
        out.push_back((data_dir / "accounts").string() + ": cannot open: " + describe(acc.error()));
    } else {
        auto problems = (*acc)->verify();
        out.insert(out.end(), problems.begin(), problems.end());
    }
    for (const auto& user : users_on_disk(data_dir)) {
        const std::string hint = " (run: mailctl index rebuild " + user + ")";
        if (auto why = index_problem(data_dir, user); !why.empty()) {
            out.push_back(why + hint);
            continue;
        }
        auto paths = user_paths(data_dir, user, false);
        std::error_code ec;
        if (!paths || !fs::exists(paths->index / "data.mdb", ec)) continue;  // made on first use
        unsigned flags = MDB_RDONLY;
        if (!fs::exists(paths->index / "lock.mdb", ec)) flags |= MDB_NOLOCK;  // make nothing
        auto env = lmdb::Env::open(paths->index, index_map_size, index_db_names(), flags,
                                   lmdb::OpenMode::existing);
        if (!env) {
            out.push_back((paths->index / "data.mdb").string() +
                          ": cannot open: " + describe(env.error()) + hint);
            continue;
        }
        if (auto e = (*env)->verify(); !e.empty())
            out.push_back((paths->index / "data.mdb").string() + ": " + e + hint);
    }
    return out;
}

}  // namespace postern
