// The in-memory schedule (a heap with lazy deletion) and the per-destination queues.
#include <catch2/catch.hpp>

#include "spoold/destination_queues.h"
#include "spoold/schedule.h"

using namespace postern;

TEST_CASE("schedule: entries come out when due, earliest first") {
    Schedule s;
    s.set("C", 300);
    s.set("A", 100);
    s.set("B", 200);
    CHECK(s.next_time() == 100);
    CHECK(s.take_due(99).empty());
    CHECK(s.take_due(200) == std::vector<std::string>{"A", "B"});
    CHECK(s.size() == 1);  // taken entries are forgotten (the attempt owns them)
    CHECK(s.next_time() == 300);
    CHECK(s.take_due(1000, 5) == std::vector<std::string>{"C"});
    CHECK_FALSE(s.next_time());
}

TEST_CASE("schedule: a new time replaces the old one, hold and erase take entries out") {
    Schedule s;
    s.set("A", 100);
    s.set("A", 500);  // rescheduled: the node for 100 is stale
    s.set("B", 200);
    CHECK(s.when("A") == 500);
    CHECK(s.take_due(300) == std::vector<std::string>{"B"});
    s.hold("A");
    CHECK(s.held("A"));
    CHECK(s.held_count() == 1);
    CHECK_FALSE(s.when("A"));
    CHECK(s.take_due(10000).empty());  // held: never due
    CHECK_FALSE(s.next_time());
    s.all_due(0);  // flush leaves held entries alone
    CHECK(s.take_due(10000).empty());
    s.set("A", 50);  // released
    CHECK(s.held_count() == 0);
    CHECK(s.next_time() == 50);
    s.erase("A");
    CHECK_FALSE(s.contains("A"));
    CHECK(s.take_due(10000).empty());
}

TEST_CASE("schedule: flush makes everything due now; many updates keep the heap small") {
    Schedule s;
    for (int i = 0; i < 100; ++i) s.set("E" + std::to_string(i), 1000 + i);
    for (int round = 0; round < 50; ++round)
        for (int i = 0; i < 100; ++i) s.set("E" + std::to_string(i), 2000 + round * 100 + i);
    CHECK(s.size() == 100);
    CHECK(s.next_time() == 2000 + 49 * 100);
    s.all_due(10);
    CHECK(s.next_time() == 10);
    auto due = s.take_due(10);
    CHECK(due.size() == 100);
    CHECK(due.front() == "E0");
    CHECK(s.size() == 0);
}

namespace {
RemoteBatch batch(const std::string& id, const std::string& dest) {
    return {id, dest, std::make_shared<Envelope>(), {}};
}
}  // namespace

TEST_CASE("destinations: a destination at its limit waits alone, the others go on") {
    DestinationQueues q({.per_destination = 1, .total = 3});
    q.push(batch("1", "slow.example"));
    q.push(batch("2", "slow.example"));
    q.push(batch("3", "slow.example"));
    q.push(batch("4", "fast.example"));
    q.push(batch("5", "fast.example"));
    auto a = q.start_next();
    auto b = q.start_next();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->destination == "slow.example");
    CHECK(b->destination == "fast.example");
    CHECK_FALSE(q.start_next());  // both at their limit of 1
    CHECK(q.in_flight("slow.example") == 1);
    // fast finishes quickly: its next batch goes, slow's still wait.
    q.finished("fast.example");
    auto c = q.start_next();
    REQUIRE(c);
    CHECK(c->id == "5");
    CHECK_FALSE(q.start_next());
    q.finished("fast.example");
    CHECK(q.waiting() == 2);
    q.finished("slow.example");
    auto d = q.start_next();
    REQUIRE(d);
    CHECK(d->id == "2");
    CHECK(q.in_flight() == 1);
}

TEST_CASE("destinations: the total limit caps every destination together") {
    DestinationQueues q({.per_destination = 10, .total = 2});
    for (int i = 0; i < 4; ++i) q.push(batch(std::to_string(i), "d" + std::to_string(i)));
    CHECK(q.start_next());
    CHECK(q.start_next());
    CHECK_FALSE(q.start_next());
    q.finished("d0");
    auto c = q.start_next();
    REQUIRE(c);
    CHECK(c->destination == "d2");
    CHECK(destination_of("Bob@Far.EXAMPLE") == "far.example");
}
