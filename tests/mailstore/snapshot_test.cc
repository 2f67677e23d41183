// SnapshotTable (libmailstore/snapshot.h), the snapshot both Mailbox backends hold.
#include <catch2/catch.hpp>

#include "libmailstore/snapshot.h"

using namespace postern;

namespace {

using Uids = std::vector<uint32_t>;
using Words = std::vector<std::string>;

struct Row {
    uint32_t uid;
    uint8_t flags;
    Words keywords;
};

SnapshotTable table(const std::vector<Row>& rows) {
    SnapshotTable t;
    for (const auto& r : rows) REQUIRE(t.push_back(r.uid, r.flags, r.keywords));
    return t;
}

Uids uids_of(const SnapshotTable& t) {
    Uids out;
    for (const auto& m : t.entries()) out.push_back(m.uid);
    return out;
}

Words keywords_at(const SnapshotTable& t, uint32_t uid) {
    const MessageEntry* m = t.find(uid);
    REQUIRE(m != nullptr);
    return t.keywords_of(*m);
}

}  // namespace

TEST_CASE("snapshot: entries stay sorted and 8 bytes; a uid out of order is corrupt",
          "[snapshot]") {
    STATIC_REQUIRE(sizeof(MessageEntry) == 8);
    SnapshotTable t = table({{2, flag_seen, {}}, {5, 0, {"Work"}}, {9, 0, {}}});
    CHECK(uids_of(t) == (Uids{2, 5, 9}));
    CHECK(t.find(5)->flags == 0);
    CHECK(keywords_at(t, 5) == Words{"Work"});
    CHECK(t.find(2)->keywords == 0);  // id 0: none
    CHECK(t.find(3) == nullptr);
    CHECK(t.find(10) == nullptr);
    auto again = t.push_back(9, 0, {});
    REQUIRE_FALSE(again);
    CHECK(again.error() == StoreError::corrupt);
    auto lower = t.push_back(4, 0, {});
    REQUIRE_FALSE(lower);
    CHECK(lower.error() == StoreError::corrupt);
    CHECK(uids_of(t) == (Uids{2, 5, 9}));
}

TEST_CASE("snapshot: one id per distinct keyword set, 65,535 of them at most", "[snapshot]") {
    SnapshotTable t;
    CHECK(*t.intern({}) == 0);
    const uint16_t a = *t.intern({"A", "B"});
    CHECK(a != 0);
    CHECK(*t.intern({"A", "B"}) == a);
    CHECK(*t.intern({"B", "A"}) != a);  // a set is as the message lists it
    for (uint32_t i = 3; i <= UINT16_MAX; ++i) REQUIRE(t.intern({std::to_string(i)}));
    CHECK(*t.intern({"65535"}) == UINT16_MAX);
    auto full = t.intern({"one too many"});
    REQUIRE_FALSE(full);
    CHECK(full.error() == StoreError::corrupt);
    CHECK(*t.intern({}) == 0);  // known sets still resolve
    CHECK(*t.intern({"A", "B"}) == a);
    auto p = t.push_back(1, 0, {"new"});
    REQUIRE_FALSE(p);
    CHECK(p.error() == StoreError::corrupt);
}

TEST_CASE("snapshot: all_keywords is every set's keywords once, case-insensitively", "[snapshot]") {
    SnapshotTable t = table({{1, 0, {"$Junk", "Work"}}, {2, 0, {"work", "Home"}}, {3, 0, {}}});
    CHECK(t.all_keywords() == (Words{"$Junk", "Work", "Home"}));
}

TEST_CASE("snapshot: upsert reports added and changed, not what is the same", "[snapshot]") {
    SnapshotTable t = table({{1, 0, {}}, {3, flag_seen, {"A"}}, {5, 0, {"B"}}});
    MailboxDelta d;
    REQUIRE(t.upsert(4, flag_flagged, {"C"}, d));  // new
    REQUIRE(t.upsert(3, flag_seen, {"A"}, d));     // the same
    REQUIRE(t.upsert(5, 0, {"A"}, d));             // other keywords
    REQUIRE(t.upsert(1, flag_answered, {}, d));    // other flags
    REQUIRE(t.upsert(7, 0, {}, d));                // new, last
    CHECK(d.added == (Uids{4, 7}));
    CHECK(d.changed == (Uids{5, 1}));
    CHECK(d.expunged.empty());
    CHECK(uids_of(t) == (Uids{1, 3, 4, 5, 7}));
    CHECK(keywords_at(t, 4) == Words{"C"});
    CHECK(keywords_at(t, 5) == Words{"A"});
    CHECK(t.find(5)->keywords == t.find(3)->keywords);
    CHECK(t.find(1)->flags == flag_answered);
}

TEST_CASE("snapshot: update changes only entries in the table", "[snapshot]") {
    SnapshotTable t = table({{1, 0, {}}, {3, 0, {}}});
    REQUIRE(t.update(3, flag_deleted, {"X"}));
    REQUIRE(t.update(2, flag_seen, {"Y"}));  // not in the snapshot: stays out
    CHECK(uids_of(t) == (Uids{1, 3}));
    CHECK(t.find(3)->flags == flag_deleted);
    CHECK(keywords_at(t, 3) == Words{"X"});
    CHECK(t.all_keywords() == Words{"X"});  // the unseen message's set was never added
}

TEST_CASE("snapshot: erase drops the uids; with a delta, says which were there", "[snapshot]") {
    SnapshotTable t = table({{1, 0, {}}, {2, 0, {}}, {4, 0, {}}, {6, 0, {}}});
    MailboxDelta d;
    t.erase(Uids{2, 3, 6, 8}, d);
    CHECK(d.expunged == (Uids{2, 6}));
    CHECK(uids_of(t) == (Uids{1, 4}));
    t.erase(Uids{1});
    CHECK(uids_of(t) == Uids{4});
    t.erase(Uids{});
    CHECK(uids_of(t) == Uids{4});
}

TEST_CASE("snapshot: replace_with compares the old and the fresh table", "[snapshot]") {
    // The fresh table numbers its keyword sets in another order: a set is compared by its
    // keywords, not by its id.
    auto old_table = [] {
        SnapshotTable t =
            table({{1, 0, {"A"}}, {2, flag_seen, {"B"}}, {3, 0, {}}, {4, 0, {"A"}}, {6, 0, {"B"}}});
        return t;
    };
    SECTION("the same folder") {
        SnapshotTable t = old_table();
        SnapshotTable fresh = table({{2, flag_seen, {"B"}},  // the same, id 1 now
                                     {3, 0, {"A"}},          // keywords added
                                     {4, flag_seen, {"A"}},  // flags changed
                                     {6, 0, {"C"}},          // other set, same id as B had
                                     {7, 0, {}}});           // new
        MailboxDelta d = t.replace_with(std::move(fresh), true);
        CHECK(d.expunged == Uids{1});
        CHECK(d.added == Uids{7});
        CHECK(d.changed == (Uids{3, 4, 6}));
        CHECK(uids_of(t) == (Uids{2, 3, 4, 6, 7}));
        CHECK(keywords_at(t, 6) == Words{"C"});
        CHECK(keywords_at(t, 2) == Words{"B"});
        CHECK(t.all_keywords() == (Words{"B", "A", "C"}));  // the fresh table's sets only
    }
    SECTION("another folder of that name") {
        SnapshotTable t = old_table();
        MailboxDelta d = t.replace_with(table({{1, 0, {"A"}}, {9, 0, {}}}), false);
        CHECK(d.expunged == (Uids{1, 2, 3, 4, 6}));
        CHECK(d.added == (Uids{1, 9}));
        CHECK(d.changed.empty());
        CHECK(uids_of(t) == (Uids{1, 9}));
    }
    SECTION("nothing changed") {
        SnapshotTable t = old_table();
        MailboxDelta d = t.replace_with(old_table(), true);
        CHECK(d.empty());
    }
}
