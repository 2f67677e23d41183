#include "config/store_section.h"

namespace postern {

void parse_store(ConfigTable& t, StoreConfig& c) {
    t.str("backend", c.backend);
    t.num("disk_reserve_bytes", c.disk_reserve_bytes, 0, int64_t(1) << 50);
    t.num("lmdb_map_size", c.lmdb_map_size, 1 << 20, int64_t(1) << 44);
}

}  // namespace postern
