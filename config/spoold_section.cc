#include "config/spoold_section.h"

namespace postern {

void parse_spoold(ConfigTable& t, SpooldConfig& c) {
    t.numbers("retry_schedule_seconds", c.retry_schedule_seconds, 1, 86400 * 7);
    t.num("max_queue_lifetime_seconds", c.max_queue_lifetime_seconds, 60, 86400 * 60);
    t.num("delay_warning_hours", c.delay_warning_hours, 0, 24 * 60);
    t.num("workers", c.workers, 1, 256);
}

}  // namespace postern
