#pragma once
// [store]: which mail store backend and its limits. The daemons and mailctl hand these to
// libmailstore (open_store, Accounts::open); the backend name is checked there
// (backend_problem), so this file knows nothing of the store.

#include <cstdint>
#include <string>

#include "libproto/config/config_section.h"

namespace postern {

struct StoreConfig {
    std::string backend = "maildir";  // libmailstore/store_factory.h knows the names
    uint64_t disk_reserve_bytes = 256ull * 1024 * 1024;  // refuse mail below this free space
    uint64_t lmdb_map_size = 1ull << 30;
};

void parse_store(ConfigTable& t, StoreConfig& c);
inline constexpr ConfigSection<StoreConfig> store_section{"store", parse_store};

}  // namespace postern
