// Deliverer::attempt_batch: several queue entries, one store group commit.
#include "tests/spoold/spool_fixture.h"
#include "tests/spoold/attempt_helper.h"

#include <algorithm>

using namespace postern;
using namespace postern::test;

TEST_CASE(
    "batch: several entries delivered in one attempt, each removed, gone/not-due kept apart") {
    Fixture f;
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(f.enqueue("s@x.example", {i % 2 ? "team@example.test" : "alice@example.test"},
                                kBody + std::to_string(i) + "\r\n"));
    // An entry that is not due (deferred remote target) and one that vanished.
    std::string later = f.enqueue("carol@example.test", {"x@remote.example"}, kBody);
    DeferringTransport none;
    REQUIRE(full_attempt(*f.deliverer, *f.store, later, kNow, none).outcome ==
            AttemptReport::Outcome::deferred);
    ids.push_back(later);
    ids.push_back("0123456789ABCDEF01");
    ids.push_back(f.enqueue("s@x.example", {"ghost@example.test"}, kBody));

    auto reps = f.deliverer->attempt_batch(*f.store, ids, kNow + 1);
    REQUIRE(reps.size() == ids.size());
    for (size_t i = 0; i < 4; ++i) {
        INFO("entry " << i << " error " << reps[i].error);
        CHECK(reps[i].id == ids[i]);
        CHECK(reps[i].outcome == AttemptReport::Outcome::finished);
        REQUIRE(reps[i].rcpts.size() == (i % 2 ? 2u : 1u));  // team@: one report per target
        for (const auto& rc : reps[i].rcpts) CHECK(rc.result == RcptResult::delivered);
    }
    CHECK(reps[4].outcome == AttemptReport::Outcome::not_due);
    CHECK(reps[5].outcome == AttemptReport::Outcome::gone);
    CHECK(reps[6].outcome == AttemptReport::Outcome::finished);
    CHECK(reps[6].rcpts[0].result == RcptResult::failed);
    CHECK(reps[6].bounce_ids.empty() == false);

    // alice: entries 0, 2 directly and 1, 3 through the alias; bob: 1, 3.
    auto a = f.mails("alice", "example.test");
    CHECK(a.size() == 4);
    CHECK(f.mails("bob", "example.test").size() == 2);
    for (int i = 0; i < 4; ++i) {
        std::string want = "Return-Path: <s@x.example>\r\n" + kBody + std::to_string(i) + "\r\n";
        CHECK(std::count(a.begin(), a.end(), want) == 1);
    }
    // Left: the deferred entry and the bounce for ghost.
    auto left = f.queue->ids();
    REQUIRE(left);
    CHECK(left->size() == 2);
    CHECK(std::count(left->begin(), left->end(), later) == 1);
}

TEST_CASE("batch: an empty batch does nothing") {
    Fixture f;
    CHECK(f.deliverer->attempt_batch(*f.store, {}, kNow).empty());
}
