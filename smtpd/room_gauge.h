#pragma once
// A recent reading of MailStore::has_room, so MAIL FROM is answered on the loop instead of
// with a pool round trip per message. The reading says one of: room for the largest
// message smtpd takes, no room at all, or in between; it is refreshed on the pool at most
// every `refresh_after` while it is used. Only "plenty" and "none" answer at once: an
// in-between or stale reading makes the caller check on the pool, and the check before
// the message is stored (SmtpPolicy::open_message) always reads the disk itself.

#include <cstdint>
#include <memory>
#include <optional>

#include <uv.h>

namespace postern {

class MailStore;

class RoomGauge {
public:
    static constexpr uint64_t refresh_after_ms = 100;
    static constexpr uint64_t trust_for_ms = 1000;  // an older reading answers nothing

    // `store` outlives the gauge and its pool work (smtpd's store lives as long as the process).
    RoomGauge(uv_loop_t* loop, MailStore& store, uint64_t max_message_size);

    // Whether `bytes` fit, from the reading, or nullopt: ask the store. Starts a refresh
    // when the reading is older than refresh_after_ms.
    std::optional<bool> room_for(uint64_t bytes);

    void set_max_message_size(uint64_t bytes);

private:
    enum class Reading : uint8_t { unknown, none, tight, plenty };
    struct State {
        Reading reading = Reading::unknown;
        uint64_t read_at_ms = 0;
        uint64_t max_message_size = 0;
        bool refreshing = false;
    };
    void refresh();

    uv_loop_t* loop_;
    MailStore& store_;
    std::shared_ptr<State> state_;  // shared with the refresh in flight
};

}  // namespace postern
