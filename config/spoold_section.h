#pragma once
// [spoold]: local delivery from the queue (retry schedule, lifetime, workers).

#include <cstdint>
#include <vector>

#include "libproto/config/config_section.h"

namespace postern {

struct SpooldConfig {
    std::vector<uint32_t> retry_schedule_seconds{60, 300, 900, 1800, 3600};
    uint32_t max_queue_lifetime_seconds = 5 * 24 * 3600;  // then bounce
    uint32_t delay_warning_hours = 4;  // one "delayed" DSN after this long; 0: none
    uint32_t workers = 4;              // concurrent deliveries
};

void parse_spoold(ConfigTable& t, SpooldConfig& c);
inline constexpr ConfigSection<SpooldConfig> spoold_section{"spoold", parse_spoold};

}  // namespace postern
