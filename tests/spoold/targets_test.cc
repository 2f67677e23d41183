// Per-target state: an alias's targets succeed and fail on their own, a retry tries only what
// is left, a crash never repeats a recorded delivery, held entries wait, deletes are safe.
#include "tests/spoold/attempt_helper.h"
#include "tests/spoold/spool_fixture.h"

using namespace postern;
using namespace postern::test;

namespace {

// The fixture's store, but bob is over quota (a temporary failure: 4.2.2).
std::unique_ptr<MailStore> store_with_bob_full(const Fixture& f) {
    StoreOptions so;
    so.disk_reserve_bytes = 0;
    so.quota_of = [](std::string_view user) -> uint64_t {
        return user == "bob@example.test" ? 1 : 0;
    };
    auto s = open_maildir_store(f.dir / "data", so);
    REQUIRE(s);
    return std::move(*s);
}

const Target& target(const Envelope& e, size_t r, size_t t) {
    return e.recipients.at(r).targets.at(t);
}

}  // namespace

TEST_CASE("targets: alias to two local mailboxes, one temporarily full: the retry writes only it") {
    Fixture f;
    DeferringTransport none;
    auto full = store_with_bob_full(f);
    std::string id = f.enqueue("carol@example.test", {"team@example.test"}, kBody);

    auto r = full_attempt(*f.deliverer, *full, id, kNow, none);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(f.mails("alice", "example.test").size() == 1);
    CHECK(f.mails("bob", "example.test").empty());
    auto env = f.queue->read(id);
    REQUIRE(env);
    CHECK(target(*env, 0, 0).state == TargetState::delivered);
    CHECK(target(*env, 0, 1).state == TargetState::deferred);
    CHECK(target(*env, 0, 1).reply.starts_with("4.2.2"));
    CHECK(target(*env, 0, 1).next_attempt == kNow + 60);

    // bob has room again: the retry delivers to bob only, alice keeps exactly one copy.
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 60, none);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.rcpts.size() == 1);
    CHECK(r.rcpts[0].target == "bob@example.test");
    CHECK(f.mails("alice", "example.test").size() == 1);
    CHECK(f.mails("bob", "example.test").size() == 1);
    CHECK(r.bounce_ids.empty());
}

TEST_CASE("targets: alias to two remote addresses, one 4xx: only that one is sent again") {
    Fixture f;
    REQUIRE(f.accounts->add_alias("pair@example.test",
                                  {"one@far.example", "two@far.example", "three@other.example"}));
    ScriptedTransport t;
    t.answers["one@far.example"] = {TargetState::delivered, "250 2.0.0 ok"};
    t.answers["three@other.example"] = {TargetState::delivered, "250 2.0.0 ok"};
    std::string id = f.enqueue("carol@example.test", {"pair@example.test"}, kBody);

    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    // One batch per destination: far.example with both of its targets, other.example.
    CHECK(t.destinations == std::vector<std::string>{"far.example", "other.example"});
    auto env = f.queue->read(id);
    CHECK(target(*env, 0, 0).state == TargetState::delivered);
    CHECK(target(*env, 0, 1).state == TargetState::deferred);
    CHECK(target(*env, 0, 1).reply == "451 4.4.1 try later");
    CHECK(target(*env, 0, 2).state == TargetState::delivered);

    t.answers["two@far.example"] = {TargetState::delivered, "250 2.0.0 ok"};
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 60, t);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    CHECK(t.sent["one@far.example"] == 1);
    CHECK(t.sent["two@far.example"] == 2);
    CHECK(t.sent["three@other.example"] == 1);
}

TEST_CASE("targets: a 5xx target bounces once, under its own address, the others go on") {
    Fixture f;
    REQUIRE(f.accounts->add_alias("pair@example.test", {"one@far.example", "two@far.example"}));
    ScriptedTransport t;
    t.answers["one@far.example"] = {TargetState::failed, "550 5.1.1 no such user"};
    std::string id = f.enqueue("carol@example.test", {"pair@example.test"}, kBody);
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    REQUIRE(r.bounce_ids.size() == 1);
    auto b = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    CHECK(b.outcome == AttemptReport::Outcome::finished);
    auto m = f.mails("carol", "example.test");
    REQUIRE(m.size() == 1);
    CHECK(m[0].find("Final-Recipient: rfc822; one@far.example") != std::string::npos);
    CHECK(m[0].find("Original-Recipient: rfc822;pair@example.test") != std::string::npos);
    CHECK(m[0].find("550 5.1.1 no such user") != std::string::npos);
    CHECK(target(*f.queue->read(id), 0, 0).notified);

    // The retry neither sends to nor bounces for the failed target again.
    t.answers["two@far.example"] = {TargetState::delivered, "250 ok"};
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 60, t);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    CHECK(r.bounce_ids.empty());
    CHECK(t.sent["one@far.example"] == 1);
}

TEST_CASE("targets: after a crash a recorded delivery is not repeated") {
    Fixture f;
    ScriptedTransport t;
    SECTION("remote: spoold died after recording one batch, before the attempt completed") {
        REQUIRE(f.accounts->add_alias("pair@example.test", {"one@far.example", "two@b.example"}));
        t.answers["one@far.example"] = {TargetState::delivered, "250 ok"};
        std::string id = f.enqueue("carol@example.test", {"pair@example.test"}, kBody);
        auto r = f.deliverer->attempt(*f.store, id, kNow);
        REQUIRE(r.outcome == AttemptReport::Outcome::remote);
        REQUIRE(r.remote.size() == 2);
        const auto& w = r.remote[r.remote[0].destination == "far.example" ? 0 : 1];
        RemoteBatch first{id, w.destination, r.envelope, w.targets};
        REQUIRE(first.destination == "far.example");
        t.deliver(first, [&](std::vector<TargetResult> res) {
            f.deliverer->record_remote(first, res, kNow);
        });
        // Crash. A new spoold (new Deliverer, same queue) tries again at once.
        Deliverer again(*f.queue, f.accounts, DeliveryParams{});
        t.answers["two@b.example"] = {TargetState::delivered, "250 ok"};
        auto r2 = full_attempt(again, *f.store, id, kNow, t, true);
        CHECK(r2.outcome == AttemptReport::Outcome::finished);
        CHECK(t.sent["one@far.example"] == 1);
        CHECK(t.sent["two@b.example"] == 1);
    }
    SECTION("local: the log says alice got her copy, bob did not") {
        std::string id = f.enqueue("carol@example.test", {"team@example.test"}, kBody);
        StateRecord x{.kind = StateRecord::Kind::expand, .rcpt = 0};
        x.targets = {{.address = "alice@example.test"}, {.address = "bob@example.test"}};
        REQUIRE(f.queue->append_state(
            id, {x, {.kind = StateRecord::Kind::target_done, .rcpt = 0, .target = 0}}, true));
        auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
        CHECK(r.outcome == AttemptReport::Outcome::finished);
        CHECK(f.mails("alice", "example.test").empty());  // the copy the log remembers
        CHECK(f.mails("bob", "example.test").size() == 1);
    }
    SECTION("the alias changed after the expansion was recorded: the recorded targets count") {
        std::string id = f.enqueue("carol@example.test", {"team@example.test"}, kBody);
        StateRecord x{.kind = StateRecord::Kind::expand, .rcpt = 0};
        x.targets = {{.address = "carol@example.test"}};
        REQUIRE(f.queue->append_state(id, {x}, true));
        auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
        CHECK(r.outcome == AttemptReport::Outcome::finished);
        CHECK(f.mails("carol", "example.test").size() == 1);
        CHECK(f.mails("alice", "example.test").empty());
    }
}

TEST_CASE("targets: a queue entry from before targets is upgraded, no local copy repeated") {
    Fixture f;
    DeferringTransport none;
    std::string id = f.enqueue("carol@example.test", {"mixed@example.test"}, kBody);
    // What the old spoold wrote after delivering carol and deferring far@remote.example.
    std::ofstream log(f.dir / "queue" / "state" / id, std::ios::app);
    log << encode_state_record({.kind = StateRecord::Kind::local_done, .rcpt = 0})
        << encode_state_record(
               {.kind = StateRecord::Kind::defer, .rcpt = 0, .error = "4.4.0 remote delivery"})
        << encode_state_record(
               {.kind = StateRecord::Kind::attempt, .attempts = 1, .next_attempt = kNow});
    log.close();
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, none);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(f.mails("carol", "example.test").empty());
    auto env = f.queue->read(id);
    REQUIRE(env->recipients[0].targets.size() == 2);
    CHECK(target(*env, 0, 0).state == TargetState::delivered);
    CHECK(target(*env, 0, 1).state == TargetState::deferred);
    CHECK(env->attempts == 2);
}

TEST_CASE("targets: a held entry is neither attempted nor expired; released it goes on") {
    Fixture f;
    DeferringTransport none;
    std::string id = f.enqueue("carol@example.test", {"x@remote.example"}, kBody);
    REQUIRE(f.queue->hold(id));
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow + 7200, none, true);
    CHECK(r.outcome == AttemptReport::Outcome::held);
    CHECK(f.queue->read(id)->attempts == 0);
    // complete() (an attempt that was in flight when the hold came) does not expire it either.
    CHECK(f.deliverer->complete(id, kNow + 7200).outcome == AttemptReport::Outcome::deferred);
    CHECK(f.queue->ids()->size() == 1);
    REQUIRE(f.queue->release(id));
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 7200, none, true);
    CHECK(r.outcome == AttemptReport::Outcome::finished);  // past its lifetime: bounced
    CHECK(r.bounce_ids.size() == 1);
}

TEST_CASE("targets: an entry deleted while its remote batch is out leaves nothing behind") {
    Fixture f;
    ScriptedTransport t;
    t.answers["x@remote.example"] = {TargetState::delivered, "250 ok"};
    std::string id = f.enqueue("carol@example.test", {"x@remote.example"}, kBody);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    REQUIRE(r.outcome == AttemptReport::Outcome::remote);
    REQUIRE(f.queue->remove(id));  // mailctl queue delete
    RemoteBatch b{id, r.remote[0].destination, r.envelope, r.remote[0].targets};
    auto rec = f.deliverer->record_remote(b, {{TargetState::delivered, "250 ok"}}, kNow);
    CHECK(rec.outcome == AttemptReport::Outcome::gone);
    CHECK(f.deliverer->complete(id, kNow).outcome == AttemptReport::Outcome::gone);
    CHECK_FALSE(std::filesystem::exists(f.dir / "queue" / "state" / id));
    CHECK(f.queue->ids()->empty());
}

TEST_CASE("targets: a mailbox reached through two recipients gets one copy across attempts") {
    Fixture f;
    DeferringTransport none;
    auto full = store_with_bob_full(f);
    // alice directly and through team@; bob full on the first try.
    std::string id =
        f.enqueue("carol@example.test", {"alice@example.test", "team@example.test"}, kBody);
    full_attempt(*f.deliverer, *full, id, kNow, none);
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow + 60, none);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    CHECK(f.mails("alice", "example.test").size() == 1);
    CHECK(f.mails("bob", "example.test").size() == 1);
}
