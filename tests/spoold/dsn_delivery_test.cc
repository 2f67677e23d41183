// The DSNs spoold queues (issue 10, "bounces and delays"): one per failure batch with the
// remote host and reply, RET=FULL, NOTIFY honoured, the one delay warning, success reports
// for local delivery, and failures of null-sender mail going to postmaster once, then only
// logged.
#include "tests/spoold/attempt_helper.h"
#include "tests/spoold/spool_fixture.h"

using namespace postern;
using namespace postern::test;

namespace {

struct Rcpt {
    std::string address;
    uint8_t notify = 0;
    std::string orcpt{};
};

std::string enqueue(Fixture& f, const std::string& from, const std::vector<Rcpt>& rcpts,
                    DsnRet ret = DsnRet::unspecified) {
    auto w = f.queue->create();
    REQUIRE(w);
    REQUIRE(w->append(kBody));
    Envelope e;
    e.reverse_path = from;
    e.ret = ret;
    for (const auto& r : rcpts) {
        Recipient x;
        x.address = r.address;
        x.notify = r.notify;
        x.orcpt = r.orcpt;
        e.recipients.push_back(x);
    }
    e.arrival = kNow;
    auto id = w->commit(e);
    REQUIRE(id);
    return *id;
}

// A queued DSN: its envelope and its message.
struct Queued {
    Envelope env;
    std::string msg;
};

Queued queued(Fixture& f, const std::string& id) {
    auto env = f.queue->read(id);
    REQUIRE(env);
    std::string msg;
    REQUIRE(f.queue->read_message(id, 0, env->size, msg));
    return {*env, msg};
}

bool has(const std::string& m, const std::string& s) {
    INFO("want substring: " << s);
    return m.find(s) != std::string::npos;
}

void use_params(Fixture& f, DeliveryParams p) {
    p.hostname = "mx.example.test";
    p.retry_schedule = {60, 600};
    p.max_lifetime = 3600;
    f.deliverer.emplace(*f.queue, f.accounts, p);
}

}  // namespace

TEST_CASE("dsn_delivery: a remote 5xx bounces with Remote-MTA and the SMTP reply") {
    Fixture f;
    ScriptedTransport t;
    t.answers["bob@far.example"] = {TargetState::failed, "550 5.1.1 <bob@far.example>: unknown",
                                    "mx1.far.example"};
    std::string id = enqueue(f, "carol@example.test", {{"bob@far.example", 0, "rfc822;Bob@far"}});
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.bounce_ids.size() == 1);
    auto b = queued(f, r.bounce_ids[0]);
    CHECK(b.env.reverse_path.empty());
    REQUIRE(b.env.recipients.size() == 1);
    CHECK(b.env.recipients[0].address == "carol@example.test");
    CHECK(b.env.recipients[0].notify == 0);  // its own failure goes to postmaster
    CHECK(has(b.msg,
              "Final-Recipient: rfc822; bob@far.example\r\n"
              "Original-Recipient: rfc822;Bob@far\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              "Remote-MTA: dns; mx1.far.example\r\n"
              "Diagnostic-Code: smtp; 550 5.1.1 <bob@far.example>: unknown\r\n"));
    CHECK(has(b.msg, "Content-Type: text/rfc822-headers\r\n"));
    CHECK_FALSE(has(b.msg, ".dot"));  // the body stays out without RET=FULL
}

TEST_CASE("dsn_delivery: RET=FULL returns the message; NOTIFY=NEVER gets nothing") {
    Fixture f;
    std::string id =
        enqueue(f, "carol@example.test",
                {{"ghost@example.test"}, {"ghost2@example.test", dsn_notify::never}}, DsnRet::full);
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.bounce_ids.size() == 1);  // one DSN for the batch
    auto b = queued(f, r.bounce_ids[0]);
    CHECK(has(b.msg, "Content-Type: message/rfc822\r\n"));
    CHECK(has(b.msg, "hello\r\n.dot\r\n"));
    CHECK(has(b.msg, "Final-Recipient: rfc822; ghost@example.test"));
    CHECK_FALSE(has(b.msg, "ghost2@example.test"));
}

TEST_CASE("dsn_delivery: a failed bounce goes to postmaster once, then is dropped") {
    Fixture f;
    DeliveryParams p;
    p.postmaster = "carol@example.test";
    use_params(f, p);
    // The sender does not exist: its bounce fails, and the postmaster gets a copy.
    std::string id = enqueue(f, "vanished@example.test", {{"ghost@example.test"}});
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    REQUIRE(r.bounce_ids.size() == 1);
    auto r2 = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    CHECK(r2.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r2.bounce_ids.size() == 1);
    auto copy = queued(f, r2.bounce_ids[0]);
    CHECK(copy.env.reverse_path.empty());
    CHECK(copy.env.recipients[0].address == "carol@example.test");
    CHECK(copy.env.recipients[0].notify == dsn_notify::never);
    auto r3 = f.deliverer->attempt(*f.store, r2.bounce_ids[0], kNow);
    CHECK(r3.outcome == AttemptReport::Outcome::finished);
    CHECK(r3.bounce_ids.empty());
    auto m = f.mails("carol", "example.test");
    REQUIRE(m.size() == 1);
    CHECK(has(m[0], "Subject: Postmaster Copy: Undelivered Mail\r\n"));
    CHECK(has(m[0], "Final-Recipient: rfc822; vanished@example.test"));
    CHECK(f.queue->ids()->empty());

    // When the postmaster's copy fails too, it is only logged: nothing is left.
    p.postmaster = "nopm@example.test";
    use_params(f, p);
    id = enqueue(f, "vanished@example.test", {{"ghost@example.test"}});
    r = f.deliverer->attempt(*f.store, id, kNow);
    REQUIRE(r.bounce_ids.size() == 1);
    r2 = f.deliverer->attempt(*f.store, r.bounce_ids[0], kNow);
    REQUIRE(r2.bounce_ids.size() == 1);
    r3 = f.deliverer->attempt(*f.store, r2.bounce_ids[0], kNow);
    CHECK(r3.outcome == AttemptReport::Outcome::finished);
    CHECK(r3.bounce_ids.empty());
    CHECK(f.queue->ids()->empty());
}

TEST_CASE("dsn_delivery: one delay warning after delay_warning, for those who want it") {
    Fixture f;
    DeliveryParams p;
    p.delay_warning = 600;
    use_params(f, p);
    ScriptedTransport t;  // defers everything: "451 4.4.1 try later"
    t.answers["slow@far.example"] = {TargetState::deferred, "451 4.7.1 greylisted",
                                     "mx1.far.example"};
    std::string id = enqueue(f, "carol@example.test",
                             {{"slow@far.example"},
                              {"quiet@far.example", dsn_notify::failure},
                              {"never@far.example", dsn_notify::never},
                              {"alice@example.test"}});
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.bounce_ids.empty());  // too early
    CHECK_FALSE(f.queue->read(id)->delay_notified);

    r = full_attempt(*f.deliverer, *f.store, id, kNow + 700, t, true);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    REQUIRE(r.bounce_ids.size() == 1);
    CHECK(f.queue->read(id)->delay_notified);
    auto w = queued(f, r.bounce_ids[0]);
    CHECK(w.env.recipients[0].address == "carol@example.test");
    CHECK(has(w.msg, "Subject: Delayed Mail (still being retried)\r\n"));
    CHECK(has(w.msg,
              "Final-Recipient: rfc822; slow@far.example\r\nAction: delayed\r\n"
              "Status: 4.7.1\r\nRemote-MTA: dns; mx1.far.example\r\n"
              "Diagnostic-Code: smtp; 451 4.7.1 greylisted\r\n"));
    CHECK(has(w.msg, "Will-Retry-Until: " + rfc5322_date(kNow + 3600) + "\r\n"));
    CHECK_FALSE(has(w.msg, "quiet@far.example"));  // NOTIFY=FAILURE: no delay report
    CHECK_FALSE(has(w.msg, "never@far.example"));
    CHECK_FALSE(has(w.msg, "alice@example.test"));  // delivered at the first attempt

    // Once only.
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 1400, t, true);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.bounce_ids.empty());

    // Expiry: one failure report for the three that want it... two: never@ wants none.
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 3600, t, true);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.bounce_ids.size() == 1);
    auto b = queued(f, r.bounce_ids[0]);
    CHECK(has(b.msg, "Final-Recipient: rfc822; slow@far.example"));
    CHECK(has(b.msg, "Final-Recipient: rfc822; quiet@far.example"));
    CHECK_FALSE(has(b.msg, "never@far.example"));
}

TEST_CASE("dsn_delivery: no delay warning for the null sender, none when turned off") {
    Fixture f;
    DeliveryParams p;
    p.delay_warning = 600;
    use_params(f, p);
    ScriptedTransport t;
    std::string id = enqueue(f, "", {{"slow@far.example"}});
    full_attempt(*f.deliverer, *f.store, id, kNow, t);
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow + 700, t, true);
    CHECK(r.outcome == AttemptReport::Outcome::deferred);
    CHECK(r.bounce_ids.empty());

    p.delay_warning = 0;
    use_params(f, p);
    id = enqueue(f, "carol@example.test", {{"slow@far.example"}});
    full_attempt(*f.deliverer, *f.store, id, kNow, t);
    r = full_attempt(*f.deliverer, *f.store, id, kNow + 3000, t, true);
    CHECK(r.bounce_ids.empty());
}

TEST_CASE("dsn_delivery: NOTIFY=SUCCESS reports a local delivery") {
    Fixture f;
    std::string id =
        enqueue(f, "carol@example.test",
                {{"alice@example.test", dsn_notify::success, "rfc822;Alice@example.test"},
                 {"bob@example.test", dsn_notify::failure}});
    auto r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.bounce_ids.size() == 1);
    auto s = queued(f, r.bounce_ids[0]);
    CHECK(s.env.recipients[0].address == "carol@example.test");
    CHECK(has(s.msg,
              "Final-Recipient: rfc822; alice@example.test\r\n"
              "Original-Recipient: rfc822;Alice@example.test\r\nAction: delivered\r\n"
              "Status: 2.0.0\r\n"));
    CHECK_FALSE(has(s.msg, "bob@example.test"));
    // Not for the null sender.
    id = enqueue(f, "", {{"alice@example.test", dsn_notify::success}});
    r = f.deliverer->attempt(*f.store, id, kNow);
    CHECK(r.bounce_ids.empty());
}

TEST_CASE("dsn_delivery: NOTIFY=SUCCESS relayed to a server without DSN gets \"relayed\"") {
    Fixture f;
    ScriptedTransport t;
    TargetResult relayed{TargetState::delivered, "250 2.0.0 queued as X", "mx1.far.example"};
    relayed.relayed = true;
    t.answers["bob@far.example"] = relayed;
    t.answers["dan@far.example"] = relayed;  // did not ask for SUCCESS
    t.answers["eve@dsn.example"] = {TargetState::delivered, "250 ok", "mx.dsn.example"};
    std::string id = enqueue(f, "carol@example.test",
                             {{"bob@far.example", dsn_notify::success, "rfc822;Bob@far"},
                              {"dan@far.example", dsn_notify::failure},
                              {"eve@dsn.example", dsn_notify::success}});
    auto r = full_attempt(*f.deliverer, *f.store, id, kNow, t);
    CHECK(r.outcome == AttemptReport::Outcome::finished);
    REQUIRE(r.bounce_ids.size() == 1);
    auto s = queued(f, r.bounce_ids[0]);
    CHECK(s.env.reverse_path.empty());
    CHECK(s.env.recipients[0].address == "carol@example.test");
    CHECK(has(s.msg, "Subject: Relayed Mail Report\r\n"));
    CHECK(has(s.msg,
              "Final-Recipient: rfc822; bob@far.example\r\n"
              "Original-Recipient: rfc822;Bob@far\r\nAction: relayed\r\nStatus: 2.0.0\r\n"
              "Remote-MTA: dns; mx1.far.example\r\n"
              "Diagnostic-Code: smtp; 250 2.0.0 queued as X\r\n"));
    CHECK(has(s.msg, "Content-Type: text/rfc822-headers\r\n"));
    CHECK_FALSE(has(s.msg, ".dot"));
    CHECK_FALSE(has(s.msg, "dan@far.example"));
    CHECK_FALSE(has(s.msg, "eve@dsn.example"));  // its server got NOTIFY and reports itself
}
