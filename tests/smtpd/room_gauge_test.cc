// RoomGauge: MAIL FROM answered on the loop from a recent has_room reading, the store asked
// again at most every refresh_after_ms, and nothing answered from a tight or stale reading.

#include <catch2/catch.hpp>
#include <uv.h>

#include "smtpd/room_gauge.h"
#include "tests/support/memory_store.h"

using namespace postern;

namespace {

struct Loop {
    uv_loop_t loop{};
    Loop() { uv_loop_init(&loop); }
    ~Loop() { uv_loop_close(&loop); }
    void run() { uv_run(&loop, UV_RUN_DEFAULT); }  // until the refresh in flight answered
    void wait_ms(uint64_t ms) {
        uv_sleep(static_cast<unsigned>(ms));
        uv_update_time(&loop);
    }
};

}  // namespace

TEST_CASE("room_gauge: readings answer plenty and none at once, in between goes to the store") {
    Loop l;
    StoreOptions opts;
    opts.disk_reserve_bytes = 100;
    MemoryStore store(opts);
    store.set_capacity(10'000);
    RoomGauge gauge(&l.loop, store, 1000);

    CHECK_FALSE(gauge.room_for(10).has_value());  // no reading yet
    l.run();
    CHECK(gauge.room_for(10) == std::optional<bool>(true));
    CHECK(gauge.room_for(1000) == std::optional<bool>(true));
    CHECK_FALSE(gauge.room_for(1001).has_value());  // beyond what "plenty" was measured for
    const int reads = store.calls("has_room");
    CHECK(reads == 1);  // plenty: the first check said it all

    // Used a hundred times within refresh_after_ms: the store is not asked again.
    for (int i = 0; i < 100; ++i) gauge.room_for(10);
    l.run();
    CHECK(store.calls("has_room") == reads);

    SECTION("tight: room for some bytes but not the largest message") {
        store.set_capacity(600);
        l.wait_ms(RoomGauge::refresh_after_ms);
        CHECK(gauge.room_for(10) == std::optional<bool>(true));  // the last reading, refreshing
        l.run();
        CHECK_FALSE(gauge.room_for(10).has_value());
    }
    SECTION("none: below the reserve") {
        store.set_capacity(50);
        l.wait_ms(RoomGauge::refresh_after_ms);
        gauge.room_for(10);
        l.run();
        CHECK(gauge.room_for(0) == std::optional<bool>(false));
        CHECK(gauge.room_for(10) == std::optional<bool>(false));
    }
    SECTION("stale: a reading older than trust_for_ms answers nothing") {
        l.wait_ms(RoomGauge::trust_for_ms);
        CHECK_FALSE(gauge.room_for(10).has_value());
        l.run();
        CHECK(gauge.room_for(10) == std::optional<bool>(true));
    }
    SECTION("a new largest size forgets the reading") {
        gauge.set_max_message_size(5000);
        CHECK_FALSE(gauge.room_for(10).has_value());
        l.run();
        CHECK(gauge.room_for(5000) == std::optional<bool>(true));
    }
}
