// run_on_pool: work on a pool thread, done on the loop thread, and never a call back to an
// owner that dropped its PoolJob (the work still runs to completion, or is cancelled).

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "libproto/net/loop.h"
#include "libproto/net/pool_job.h"

using namespace postern;
using namespace std::chrono;

TEST_CASE("pool job: work on the pool, done on the loop", "[net][pool]") {
    EventLoop loop;
    auto loop_thread = std::this_thread::get_id();
    std::atomic<bool> work_on_loop{true};
    bool done = false, done_on_loop = false;
    PoolJob job = run_on_pool(
        loop.get(), [&] { work_on_loop = std::this_thread::get_id() == loop_thread; },
        [&] {
            done = true;
            done_on_loop = std::this_thread::get_id() == loop_thread;
        });
    CHECK(job.active());
    REQUIRE(loop.run_until([&] { return done; }, seconds(5)));
    CHECK_FALSE(work_on_loop.load());
    CHECK(done_on_loop);
    CHECK_FALSE(job.active());
}

TEST_CASE("pool job: an owner gone first is never called back", "[net][pool]") {
    EventLoop loop;
    std::atomic<bool> started{false}, finished{false};
    auto owner_alive = std::make_shared<bool>(true);
    bool called = false;
    {
        auto job = std::make_unique<PoolJob>(run_on_pool(
            loop.get(),
            [&] {
                started = true;
                std::this_thread::sleep_for(milliseconds(100));
                finished = true;
            },
            [&called] { called = true; }));
        // Let the work begin, then the owner (say a session) dies.
        REQUIRE(loop.run_until([&] { return started.load(); }, seconds(5)));
        job.reset();
    }
    // The work runs to its end; after_work runs and frees the job without calling back.
    REQUIRE(loop.run_until([&] { return finished.load(); }, seconds(5)));
    loop.run_until([] { return false; }, milliseconds(50));
    CHECK_FALSE(called);
}

TEST_CASE("pool job: done may drop its own job; a moved job keeps delivering", "[net][pool]") {
    EventLoop loop;
    std::optional<PoolJob> holder;
    int calls = 0;
    PoolJob first = run_on_pool(
        loop.get(), [] {},
        [&] {
            ++calls;
            holder.reset();  // the owner destroys itself from inside done
        });
    holder.emplace(std::move(first));
    CHECK_FALSE(first.active());  // NOLINT(bugprone-use-after-move): moved-from is inactive
    CHECK(holder->active());
    REQUIRE(loop.run_until([&] { return calls == 1; }, seconds(5)));
    CHECK_FALSE(holder.has_value());
}

TEST_CASE("pool job: an abandoned job still runs its work, even one not yet started",
          "[net][pool]") {
    EventLoop loop;
    // Fill the pool so the abandoned job is still queued when its owner lets go (a plain
    // cancel would then skip it).
    const char* env = std::getenv("UV_THREADPOOL_SIZE");
    int threads = env ? std::max(1, std::atoi(env)) : 4;
    std::atomic<bool> release{false};
    std::atomic<int> blocking{0};
    std::vector<PoolJob> blockers;
    for (int i = 0; i < threads; ++i)
        blockers.push_back(run_on_pool(
            loop.get(),
            [&] {
                ++blocking;
                while (!release) std::this_thread::sleep_for(milliseconds(1));
            },
            [] {}));
    REQUIRE(loop.run_until([&] { return blocking == threads; }, seconds(5)));
    std::atomic<bool> ran{false};
    bool called = false;
    {
        PoolJob job = run_on_pool(
            loop.get(), [&] { ran = true; }, [&] { called = true; });
        job.abandon();
        CHECK_FALSE(job.active());
    }
    CHECK_FALSE(ran.load());
    release = true;
    REQUIRE(loop.run_until([&] { return ran.load(); }, seconds(5)));
    loop.run_until([] { return false; }, milliseconds(50));
    CHECK_FALSE(called);
}

TEST_CASE("pool job: try_run_on_pool queues like run_on_pool", "[net][pool]") {
    EventLoop loop;
    std::atomic<bool> worked{false};
    bool done = false;
    auto job = try_run_on_pool(
        loop.get(), [&] { worked = true; }, [&] { done = true; });
    REQUIRE(job.has_value());
    CHECK(job->active());
    REQUIRE(loop.run_until([&] { return done; }, seconds(5)));
    CHECK(worked.load());
    CHECK_FALSE(job->active());
}
