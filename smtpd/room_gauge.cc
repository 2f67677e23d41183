#include "smtpd/room_gauge.h"

#include "libmailstore/store.h"
#include "libproto/net/pool_job.h"

namespace postern {

RoomGauge::RoomGauge(uv_loop_t* loop, MailStore& store, uint64_t max_message_size)
    : loop_(loop), store_(store), state_(std::make_shared<State>()) {
    state_->max_message_size = max_message_size;
}

void RoomGauge::set_max_message_size(uint64_t bytes) {
    if (bytes == state_->max_message_size) return;
    state_->max_message_size = bytes;
    state_->reading = Reading::unknown;  // "plenty" was measured against the old size
}

std::optional<bool> RoomGauge::room_for(uint64_t bytes) {
    const uint64_t now = uv_now(loop_);
    const uint64_t age = now - state_->read_at_ms;
    if (state_->reading == Reading::unknown || age >= refresh_after_ms) refresh();
    if (age >= trust_for_ms) return std::nullopt;
    switch (state_->reading) {
    case Reading::plenty:
        if (bytes <= state_->max_message_size) return true;
        return std::nullopt;
    case Reading::none: return false;
    default: return std::nullopt;
    }
}

void RoomGauge::refresh() {
    if (state_->refreshing) return;
    state_->refreshing = true;
    auto result = std::make_shared<Reading>(Reading::unknown);
    run_on_pool_detached(
        loop_,
        [store = &store_, result, max = state_->max_message_size] {
            *result = store->has_room(max) ? Reading::plenty
                      : store->has_room(0) ? Reading::tight
                                           : Reading::none;
        },
        [loop = loop_, st = state_, result, max = state_->max_message_size] {
            st->refreshing = false;
            if (max != st->max_message_size) return;  // measured against an old size
            st->reading = *result;
            st->read_at_ms = uv_now(loop);
        });
}

}  // namespace postern
