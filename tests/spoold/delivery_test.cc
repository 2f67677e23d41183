#include "tests/spoold/spool_fixture.h"
#include "tests/spoold/attempt_helper.h"

using namespace postern;
using namespace postern::test;

TEST_CASE("delivery: local user gets the message byte-exact after Return-Path") {
    Fixture f;
    std::string id = f.enqueue("sender@x.example", {"alice@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    INFO("error: " << r.error);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.rcpts.size() == 1);
    CHECK(r.rcpts[0].result == RcptResult::delivered);
    auto m = f.mails("alice", "example.test");
    REQUIRE(m.size() == 1);
    CHECK(m[0] == "Return-Path: <sender@x.example>\r\n" + kBody);
    CHECK(f.queue->ids()->empty());
}

TEST_CASE("delivery: nested aliases, duplicates once, catch-all") {
    Fixture f;
    std::string id =
        f.enqueue("", {"all@example.test", "alice@example.test", "whoever@catch.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    CHECK(f.mails("alice", "example.test").size() == 1);  // reached twice, stored once
    CHECK(f.mails("bob", "example.test").size() == 1);
    CHECK(f.mails("carol", "example.test").size() == 1);
    REQUIRE(f.mails("nobody", "catch.test").size() == 1);
    CHECK(f.mails("nobody", "catch.test")[0].starts_with("Return-Path: <>\r\n"));
}

TEST_CASE("delivery: unknown recipient and alias loop bounce to the sender") {
    Fixture f;
    std::string id =
        f.enqueue("sender@example.test",
                  {"ghost@example.test", "loop1@example.test", "bob@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.rcpts.size() == 3);
    CHECK(r.rcpts[0].result == RcptResult::failed);
    CHECK(r.rcpts[0].detail.starts_with("5.1.1"));
    CHECK(r.rcpts[1].result == RcptResult::failed);
    CHECK(r.rcpts[1].detail.starts_with("5.4.6"));
    CHECK(r.rcpts[2].result == RcptResult::delivered);
    REQUIRE(r.bounce_ids.size() == 1);
    auto b = f.queue->read(r.bounce_ids[0]);
    REQUIRE(b);
    CHECK(b->reverse_path.empty());
    REQUIRE(b->recipients.size() == 1);
    CHECK(b->recipients[0].address == "sender@example.test");
    // The bounce is itself delivered like any message; it never bounces to its sender (<>).
    auto r2 = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    CHECK(r2.outcome == AttemptReport::Outcome::finished);
    // "sender" is unknown in example.test: the bounce fails, and only the postmaster hears.
    REQUIRE(r2.bounce_ids.size() == 1);
    auto copy = f.queue->read(r2.bounce_ids[0]);
    REQUIRE(copy);
    CHECK(copy->recipients[0].address == "postmaster@mx.example.test");
    CHECK(copy->recipients[0].notify == dsn_notify::never);
    CHECK(f.queue->ids()->size() == 1);
}

TEST_CASE("delivery: a bounce to a local sender lands as multipart/report") {
    Fixture f;
    std::string id = f.enqueue("carol@example.test", {"ghost@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    REQUIRE(r.bounce_ids.size() == 1);
    auto r2 = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    CHECK(r2.outcome == AttemptReport::Outcome::finished);
    auto m = f.mails("carol", "example.test");
    REQUIRE(m.size() == 1);
    CHECK(m[0].find("report-type=delivery-status") != std::string::npos);
    CHECK(m[0].find("Final-Recipient: rfc822; ghost@example.test") != std::string::npos);
}

TEST_CASE("delivery: null sender failure goes to postmaster, never to <>") {
    Fixture f;
    std::string id = f.enqueue("", {"ghost@example.test"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.bounce_ids.size() == 1);
    auto copy = f.queue->read(r.bounce_ids[0]);
    REQUIRE(copy);
    CHECK(copy->recipients[0].address == "postmaster@mx.example.test");
    CHECK(f.queue->ids()->size() == 1);  // only the postmaster's copy
}

TEST_CASE("delivery: remote targets are deferred, local part delivered once, then expire") {
    Fixture f;
    DeferringTransport none;
    std::string id =
        f.enqueue("carol@example.test", {"mixed@example.test", "x@remote.example"}, kBody);
    // Step 1 alone: the local part is delivered, the remote batches are handed out, and the
    // expansion is already in the log.
    auto first = f.deliverer->attempt(*f.store, id, kNow);
    REQUIRE(first.outcome == AttemptReport::Outcome::remote);
    REQUIRE(first.remote.size() == 1);
    CHECK(first.remote[0].destination == "remote.example");
    CHECK(first.remote[0].targets.size() == 2);  // far@ (through mixed@) and x@, one batch
    CHECK(f.queue->read(id)->recipients[0].expanded);

    f.queue->remove(id);
    id = f.enqueue("carol@example.test", {"mixed@example.test", "x@remote.example"}, kBody);
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, none);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.next_attempt == kNow + 60);
    REQUIRE(r.rcpts.size() == 3);  // carol, far@, x@
    CHECK(r.rcpts[0].result == RcptResult::delivered);
    CHECK(r.rcpts[1].result == RcptResult::deferred);
    CHECK(r.rcpts[1].detail.find("remote delivery not implemented yet") != std::string::npos);
    CHECK(f.mails("carol", "example.test").size() == 2);  // one per entry

    auto env = f.queue->read(id);
    REQUIRE(env);
    CHECK(env->attempts == 1);
    REQUIRE(env->recipients[0].targets.size() == 2);
    CHECK(env->recipients[0].targets[0].state == TargetState::delivered);
    CHECK(env->recipients[0].targets[1].state == TargetState::deferred);
    CHECK(env->recipients[0].targets[1].attempts == 1);
    CHECK(env->recipients[1].targets[0].reply.find("remote delivery") != std::string::npos);

    // Not due yet.
    CHECK(f.deliverer->attempt(*f.store, id, kNow + 10).outcome == AttemptReport::Outcome::not_due);
    // Second try: the local copy is not repeated; next delay from the schedule.
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 60, none);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.next_attempt == kNow + 60 + 600);
    CHECK(f.mails("carol", "example.test").size() == 2);

    // After max lifetime: both remote targets fail with 4.4.7 and one bounce goes to carol.
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 3600, none);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    int expired = 0;
    for (const auto& rc : r.rcpts)
        if (rc.result == RcptResult::failed && rc.detail.starts_with("4.4.7")) ++expired;
    CHECK(expired == 2);
    REQUIRE(r.bounce_ids.size() == 1);
    CHECK(f.queue->ids()->size() == 1);  // only the bounce is left
}

TEST_CASE("delivery: a deleted entry is gone, not an error") {
    Fixture f;
    auto r = f.deliverer->attempt(*f.store, "0123456789ABCDEF01", kNow);
    CHECK(r.outcome == AttemptReport::Outcome::gone);
}

TEST_CASE("delivery: retry delays follow the schedule and stay at its last value") {
    std::vector<uint32_t> s{60, 300, 900};
    CHECK(retry_delay(s, 1) == 60);
    CHECK(retry_delay(s, 2) == 300);
    CHECK(retry_delay(s, 3) == 900);
    CHECK(retry_delay(s, 10) == 900);
    CHECK(retry_delay({}, 1) == 300);
}
