// The MailStore contract (libmailstore/store.h), one suite run against both backends: the
// Maildir++ + LMDB store and the in-memory one (tests/support/memory_store.h). Anything a
// protocol may rely on is asserted here, so a third backend passes the same tests.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "libmailstore/accounts.h"
#include "libmailstore/store.h"
#include "tests/mailstore/test_util.h"
#include "tests/support/memory_store.h"

using namespace postern;

namespace {

const std::string bob = "bob@example.com";
const std::string alice = "alice@example.com";

StoreOptions options(std::atomic<uint64_t>& quota) {
    StoreOptions o;
    o.disk_reserve_bytes = 0;
    o.index_map_size = 32ull << 20;
    o.quota_of = [&quota](std::string_view) { return quota.load(); };
    return o;
}

// The Maildir store over a fresh data dir with accounts bob and alice and their storage.
struct Maildir {
    test::TempDir dir;
    std::atomic<uint64_t> quota{0};  // every user's quota (0: none)
    std::unique_ptr<MailStore> store;
    Maildir() {
        test::accounts_with_users(dir.path(), {bob, alice});
        auto s = open_maildir_store(dir.path(), options(quota));
        REQUIRE(s);
        store = std::move(*s);
    }
    // Makes the folder's change log forget its tombstones (a reindex starts it anew).
    void prune_log(const std::string& user, const std::string&) {
        REQUIRE(store->rebuild_index(user));
    }
    // Staged messages still kept somewhere (files in DATA/tmp).
    size_t staged_left() { return test::count_files(dir.path() / "tmp"); }
};

struct Memory {
    std::atomic<uint64_t> quota{0};
    std::unique_ptr<MailStore> store;
    MemoryStore* mem = nullptr;
    Memory() {
        auto m = std::make_unique<MemoryStore>(options(quota));
        m->set_capacity(1ull << 50);
        REQUIRE(m->create_user(bob));
        REQUIRE(m->create_user(alice));
        mem = m.get();
        store = std::move(m);
    }
    void prune_log(const std::string& user, const std::string& folder) {
        REQUIRE(mem->prune_log(user, folder));
    }
    size_t staged_left() { return mem->staged_alive(); }
};

// Message n's bytes; they stay (a MessageSource only points at them).
const std::string& msg(int n) {
    static std::map<int, std::string> made;
    auto [it, fresh] = made.try_emplace(n);
    if (fresh) it->second = test::make_message("contract", n);
    return it->second;
}

template <class F>
Delivered deliver(F& f, int n, const std::string& folder = "INBOX", const std::string& user = bob) {
    DeliveryOptions o;
    o.folder = folder;
    auto d = f.store->deliver(user, MessageSource::from_bytes(msg(n)), o);
    REQUIRE(d);
    return *d;
}

template <class F>
std::unique_ptr<Mailbox> open(F& f, const std::string& folder = "INBOX",
                              const std::string& user = bob) {
    auto mb = f.store->open_mailbox(user, folder);
    REQUIRE(mb);
    return std::move(*mb);
}

std::vector<uint32_t> uids_of(const Mailbox& mb) {
    std::vector<uint32_t> out;
    for (const auto& m : mb.messages()) out.push_back(m.uid);
    return out;
}

using Uids = std::vector<uint32_t>;
using Words = std::vector<std::string>;

// A reader that claims `claim` octets of `s` (shorter than that: a broken source).
struct StringReader final : MessageReader {
    std::string s;
    uint64_t claim;
    StringReader(std::string b, uint64_t c) : s(std::move(b)), claim(c) {}
    uint64_t size() const override { return claim; }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (offset >= s.size()) return 0;
        size_t n = std::min<size_t>(buf.size(), s.size() - offset);
        std::memcpy(buf.data(), s.data() + offset, n);
        return n;
    }
};

// STATUS without a snapshot says what a fresh snapshot says.
template <class F>
void check_status(F& f, Mailbox& mb, const std::string& folder) {
    REQUIRE(mb.refresh());
    auto st = f.store->status(bob, folder);
    REQUIRE(st);
    uint32_t unseen = 0;
    for (const auto& m : mb.messages()) unseen += (m.flags & flag_seen) == 0;
    auto infos = mb.info(uids_of(mb));
    REQUIRE(infos);
    uint64_t size = 0;
    for (const auto& i : *infos) size += i.size;
    CHECK(st->messages == mb.messages().size());
    CHECK(st->unseen == unseen);
    CHECK(st->uidnext == mb.uidnext());
    CHECK(st->uidvalidity == mb.uidvalidity());
    CHECK(st->highestmodseq == mb.highestmodseq());
    CHECK(st->size == size);
}

// Waits (bounded) until `n` reaches `want`.
bool wait_for(const std::atomic<int>& n, int want, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (n.load() < want) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

}  // namespace

TEMPLATE_TEST_CASE("deliver returns UIDVALIDITY and UID; the bytes come back exactly", "[contract]",
                   Maildir, Memory) {
    TestType f;
    Delivered d1 = deliver(f, 1), d2 = deliver(f, 2);
    CHECK(d1.uid == 1);
    CHECK(d2.uid == 2);
    CHECK(d1.uidvalidity == d2.uidvalidity);
    auto mb = open(f, "inbox");  // INBOX is case-insensitive
    CHECK(mb->folder() == "INBOX");
    CHECK(mb->user() == bob);
    CHECK(mb->uidvalidity() == d1.uidvalidity);
    CHECK(mb->uidnext() == 3);
    CHECK(uids_of(*mb) == Uids{1, 2});
    CHECK(*mb->read_message(2) == msg(2));
    auto r = mb->open_message(1);
    REQUIRE(r);
    CHECK((*r)->size() == msg(1).size());
    char buf[8];
    CHECK(*(*r)->read_at(5, buf) == 8);  // any offset, any order
    CHECK(std::string(buf, 8) == msg(1).substr(5, 8));
    CHECK(*(*r)->read_at(msg(1).size(), buf) == 0);
    auto i = mb->info(1);
    REQUIRE(i);
    CHECK(i->uid == 1);
    CHECK(i->size == msg(1).size());
    CHECK(i->flags == 0);
    CHECK(i->keywords.empty());
    CHECK(i->internal_date > 0);
    CHECK(i->modseq > 0);
    CHECK(*f.store->usage("Bob@Example.COM") == msg(1).size() + msg(2).size());

    // Flags, keywords, internal date and a reader as the source (IMAP APPEND).
    DeliveryOptions o;
    o.folder = "INBOX";
    o.flags = flag_seen | flag_flagged;
    o.keywords = {"$Label1"};
    o.internal_date = 1000000000;
    StringReader src(msg(3), msg(3).size());
    auto d3 = f.store->deliver("BOB@example.com", MessageSource::from_reader(src), o);
    REQUIRE(d3);
    CHECK(d3->uid == 3);
    CHECK(d3->uidvalidity == d1.uidvalidity);
    REQUIRE(mb->refresh());
    const MessageEntry* e = mb->find(3);
    REQUIRE(e);
    CHECK(e->flags == (flag_seen | flag_flagged));
    CHECK(mb->keywords_of(*e) == Words{"$Label1"});
    i = mb->info(3);
    REQUIRE(i);
    CHECK(i->internal_date == 1000000000);
    CHECK(i->keywords == Words{"$Label1"});
    CHECK(*mb->read_message(3) == msg(3));
}

TEMPLATE_TEST_CASE("deliver_many and deliver_batch: one result per user, in order", "[contract]",
                   Maildir, Memory) {
    TestType f;
    std::vector<std::string> users{bob, "ghost@example.com", alice, "not an address"};
    auto res = f.store->deliver_many(users, MessageSource::from_bytes(msg(1)));
    REQUIRE(res.size() == 4);
    REQUIRE(res[0]);
    CHECK(res[0]->uid == 1);
    CHECK(res[1].error() == StoreError::not_found);
    REQUIRE(res[2]);
    CHECK(res[2]->uid == 1);
    CHECK(res[3].error() == StoreError::invalid);
    CHECK(*open(f, "INBOX", alice)->read_message(1) == msg(1));
    CHECK(res[0]->uidvalidity == open(f)->uidvalidity());

    REQUIRE(f.store->create_folder(bob, "Archive"));
    std::vector<DeliveryBatchItem> items(3);
    items[0].users = {bob, alice};
    items[0].msg = MessageSource::from_bytes(msg(2));
    items[1].users = {bob};
    items[1].msg = MessageSource::from_bytes(msg(3));
    items[1].opts.folder = "Archive";
    items[1].opts.flags = flag_seen;
    items[2].users = {alice, bob};
    items[2].msg = MessageSource::from_bytes(msg(4));
    items[2].opts.folder = "Archive";  // alice has none
    auto batch = f.store->deliver_batch(items);
    REQUIRE(batch.size() == 3);
    REQUIRE(batch[0].size() == 2);
    CHECK(batch[0][0]->uid == 2);
    CHECK(batch[0][1]->uid == 2);
    REQUIRE(batch[1].size() == 1);
    CHECK(batch[1][0]->uid == 1);
    REQUIRE(batch[2].size() == 2);
    CHECK(batch[2][0].error() == StoreError::not_found);
    CHECK(batch[2][1]->uid == 2);
    auto archive = open(f, "Archive");
    CHECK(batch[1][0]->uidvalidity == archive->uidvalidity());
    CHECK(uids_of(*archive) == Uids{1, 2});
    CHECK(archive->find(1)->flags == flag_seen);
    CHECK(*archive->read_message(2) == msg(4));
    CHECK(*f.store->usage(alice) == msg(1).size() + msg(2).size());
}

TEMPLATE_TEST_CASE("delivery errors", "[contract]", Maildir, Memory) {
    TestType f;
    auto src = MessageSource::from_bytes("x\r\n");
    CHECK(f.store->deliver("nobody@example.com", src).error() == StoreError::not_found);
    CHECK(f.store->deliver("bad", src).error() == StoreError::invalid);
    DeliveryOptions o;
    o.folder = "NoSuchFolder";
    CHECK(f.store->deliver(bob, src, o).error() == StoreError::not_found);
    o.folder = "archive";  // folder names other than INBOX are case-sensitive
    REQUIRE(f.store->create_folder(bob, "Archive"));
    CHECK(f.store->deliver(bob, src, o).error() == StoreError::not_found);
    for (const char* bad : {"bad..name", "", "/x", ".x", "a//b", "a/.b", "a\\b", "a\x01"}) {
        o.folder = bad;
        CHECK(f.store->deliver(bob, src, o).error() == StoreError::invalid);
    }
    StringReader short_src("abc", 10);  // says 10 octets, has 3
    CHECK(f.store->deliver(bob, MessageSource::from_reader(short_src)).error() ==
          StoreError::invalid);
    CHECK(open(f)->messages().empty());
    CHECK(*f.store->usage(bob) == 0);
}

TEMPLATE_TEST_CASE("quota applies on every delivery path and on copy", "[contract]", Maildir,
                   Memory) {
    TestType f;
    const uint64_t m = msg(1).size();  // every msg(n) below 10 has this size
    f.quota = 2 * m;
    deliver(f, 1);
    deliver(f, 2);
    CHECK(f.store->deliver(bob, MessageSource::from_bytes(msg(3))).error() ==
          StoreError::over_quota);
    std::vector<std::string> both{bob, alice};
    auto many = f.store->deliver_many(both, MessageSource::from_bytes(msg(4)));
    CHECK(many[0].error() == StoreError::over_quota);
    CHECK(many[1]);  // alice has room
    // A batch counts its own messages: alice's second one is over.
    std::vector<DeliveryBatchItem> items(2);
    for (int i = 0; i < 2; ++i) {
        items[i].users = {alice};
        items[i].msg = MessageSource::from_bytes(msg(5 + i));
    }
    auto batch = f.store->deliver_batch(items);
    CHECK(batch[0][0]);
    CHECK(batch[1][0].error() == StoreError::over_quota);
    CHECK(*f.store->usage(alice) == 2 * m);

    // COPY: all or nothing.
    REQUIRE(f.store->create_folder(bob, "Archive"));
    auto mb = open(f);
    Uids one{1};
    CHECK(mb->copy_to(one, "Archive").error() == StoreError::over_quota);
    CHECK(f.store->status(bob, "Archive")->messages == 0);
    f.quota = 3 * m;
    Uids two{1, 2};
    CHECK(mb->copy_to(two, "Archive").error() == StoreError::over_quota);
    CHECK(f.store->status(bob, "Archive")->messages == 0);
    CHECK(mb->copy_to(one, "Archive"));
    CHECK(*f.store->usage(bob) == 3 * m);
    f.quota = 0;  // unlimited
    CHECK(mb->copy_to(two, "Archive"));
    CHECK(*f.store->usage(bob) == 5 * m);
}

TEMPLATE_TEST_CASE("a snapshot changes only on refresh or by its own changes", "[contract]",
                   Maildir, Memory) {
    TestType f;
    for (int i = 1; i <= 3; ++i) deliver(f, i);
    auto a = open(f);
    auto b = open(f);
    const uint64_t hms = a->highestmodseq();
    deliver(f, 4);
    Uids u1{1};
    REQUIRE(b->store_flags(u1, {FlagOp::add, flag_flagged, {}}));
    Uids u2{2};
    REQUIRE(b->expunge(u2));
    // a sees none of it yet.
    CHECK(uids_of(*a) == Uids{1, 2, 3});
    CHECK(a->find(1)->flags == 0);
    CHECK(a->uidnext() == 4);
    CHECK(a->highestmodseq() == hms);
    // b sees its own changes at once, not the new message.
    CHECK(uids_of(*b) == Uids{1, 3});
    CHECK(b->find(1)->flags == flag_flagged);

    auto d = a->refresh();
    REQUIRE(d);
    CHECK(d->expunged == Uids{2});
    CHECK(d->added == Uids{4});
    CHECK(d->changed == Uids{1});
    CHECK(uids_of(*a) == Uids{1, 3, 4});
    CHECK(a->uidnext() == 5);
    CHECK(a->highestmodseq() > hms);
    d = a->refresh();
    REQUIRE(d);
    CHECK(d->empty());

    // a's own flag change and expunge show in a at once and are not reported again.
    Uids u3{3};
    REQUIRE(a->store_flags(u3, {FlagOp::add, flag_seen, {}}));
    CHECK(a->find(3)->flags == flag_seen);
    REQUIRE(a->expunge(u1));
    CHECK(a->find(1) == nullptr);
    d = a->refresh();
    REQUIRE(d);
    CHECK(d->empty());
    d = b->refresh();
    REQUIRE(d);
    CHECK(d->expunged == Uids{1});
    CHECK(d->added == Uids{4});
    CHECK(d->changed == Uids{3});
}

TEMPLATE_TEST_CASE("concurrent handles: the delta says exactly what changed", "[contract]", Maildir,
                   Memory) {
    TestType f;
    for (int i = 1; i <= 5; ++i) deliver(f, i);
    auto a = open(f);
    auto b = open(f);
    Uids u2{2}, u3{3}, u4{4}, u5{5};
    REQUIRE(b->store_flags(u2, {FlagOp::add, flag_flagged, {}}));
    REQUIRE(b->store_flags(u3, {FlagOp::add, 0, {"$Work"}}));
    REQUIRE(b->expunge(u4));
    // Changed and changed back before a looks: no change for a.
    REQUIRE(b->store_flags(u5, {FlagOp::add, flag_seen, {}}));
    REQUIRE(b->store_flags(u5, {FlagOp::remove, flag_seen, {}}));
    deliver(f, 6);

    // a's snapshot still lists 4; reading it says it is gone.
    REQUIRE(a->find(4));
    CHECK(a->read_message(4).error() == StoreError::expunged);
    CHECK(a->info(4).error() == StoreError::expunged);
    CHECK(a->read_message(6).error() == StoreError::not_found);  // never in a's snapshot
    auto infos = a->info(Uids{1, 4, 6, 2});
    REQUIRE(infos);
    REQUIRE(infos->size() == 2);
    CHECK((*infos)[0].uid == 1);
    CHECK((*infos)[1].uid == 2);
    CHECK((*infos)[1].flags == flag_flagged);  // info reads the message now

    auto d = a->refresh();
    REQUIRE(d);
    CHECK(d->expunged == Uids{4});
    CHECK(d->added == Uids{6});
    CHECK(d->changed == (Uids{2, 3}));
    CHECK(a->find(2)->flags == flag_flagged);
    CHECK(a->keywords_of(*a->find(3)) == Words{"$Work"});
    CHECK(a->keywords_of(*a->find(1)).empty());

    REQUIRE(b->store_flags(u2, {FlagOp::remove, flag_flagged, {}}));
    d = a->refresh();
    REQUIRE(d);
    CHECK(d->changed == Uids{2});
    CHECK(d->added.empty());
    CHECK(d->expunged.empty());
    CHECK(a->find(2)->flags == 0);

    // Interleaved: b changes 1, then a changes 3 and expunges 5 (a not refreshed in
    // between): a's refresh reports only b's change, never its own again.
    Uids u1{1};
    REQUIRE(b->store_flags(u1, {FlagOp::add, flag_answered, {}}));
    REQUIRE(b->store_flags(u5, {FlagOp::add, flag_flagged, {}}));
    REQUIRE(a->store_flags(u3, {FlagOp::add, flag_seen, {}}));
    REQUIRE(a->expunge(u5));
    d = a->refresh();
    REQUIRE(d);
    CHECK(d->changed == Uids{1});
    CHECK(d->added.empty());
    CHECK(d->expunged.empty());
    CHECK(a->find(1)->flags == flag_answered);
    CHECK(a->find(3)->flags == flag_seen);
    CHECK(uids_of(*a) == (Uids{1, 2, 3, 6}));
    d = b->refresh();
    REQUIRE(d);
    CHECK(d->changed == Uids{3});
    CHECK(d->expunged == Uids{5});
}

TEMPLATE_TEST_CASE("keywords compare case-insensitively and keep their first case", "[contract]",
                   Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    deliver(f, 2);
    auto mb = open(f);
    Uids u1{1};
    REQUIRE(mb->store_flags(u1, {FlagOp::add, 0, {"$Label", "Work"}}));
    const uint64_t m1 = mb->info(1)->modseq;
    REQUIRE(mb->store_flags(u1, {FlagOp::add, 0, {"$LABEL", "work"}}));
    CHECK(mb->keywords_of(*mb->find(1)) == (Words{"$Label", "Work"}));
    CHECK(mb->info(1)->modseq == m1);  // nothing changed: no new modseq
    auto fk = mb->folder_keywords();
    CHECK(std::find(fk.begin(), fk.end(), "$Label") != fk.end());
    CHECK(std::find(fk.begin(), fk.end(), "Work") != fk.end());
    REQUIRE(mb->store_flags(u1, {FlagOp::remove, 0, {"$label"}}));
    CHECK(mb->keywords_of(*mb->find(1)) == Words{"Work"});
    REQUIRE(mb->store_flags(u1, {FlagOp::set, flag_answered, {"A", "a", "B"}}));
    CHECK(mb->keywords_of(*mb->find(1)) == (Words{"A", "B"}));
    CHECK(mb->find(1)->flags == flag_answered);
    auto other = open(f);
    CHECK(other->keywords_of(*other->find(1)) == (Words{"A", "B"}));
    CHECK(other->info(1)->keywords == (Words{"A", "B"}));
    CHECK(other->keywords_of(*other->find(2)).empty());
    // Bits that are no flag are ignored.
    Uids u2{2};
    REQUIRE(mb->store_flags(u2, {FlagOp::add, uint8_t(0x80 | flag_draft), {}}));
    CHECK(mb->find(2)->flags == flag_draft);
    CHECK(mb->info(2)->flags == flag_draft);

    // A delivery's keywords (IMAP APPEND) follow the same rules.
    DeliveryOptions o;
    o.keywords = {"$Label", "$LABEL", "", "Work"};
    o.flags = uint8_t(0x80 | flag_seen);
    auto d = f.store->deliver(bob, MessageSource::from_bytes(msg(3)), o);
    REQUIRE(d);
    REQUIRE(other->refresh());
    CHECK(other->keywords_of(*other->find(d->uid)) == (Words{"$Label", "Work"}));
    CHECK(other->info(d->uid)->keywords == (Words{"$Label", "Work"}));
    CHECK(other->find(d->uid)->flags == flag_seen);
}

TEMPLATE_TEST_CASE("store_flags: a MODSEQ per change; UNCHANGEDSINCE gives MODIFIED", "[contract]",
                   Maildir, Memory) {
    TestType f;
    for (int i = 1; i <= 4; ++i) deliver(f, i);
    auto a = open(f);
    auto b = open(f);
    const uint64_t start = a->highestmodseq();
    Uids all{1, 2, 3, 4, 99};  // 99: unknown, skipped
    auto r = a->store_flags(all, {FlagOp::add, flag_seen, {}});
    REQUIRE(r);
    CHECK(r->empty());
    auto infos = a->info(Uids{1, 2, 3, 4});
    REQUIRE(infos);
    std::vector<uint64_t> ms;
    for (const auto& i : *infos) {
        CHECK(i.flags == flag_seen);
        CHECK(i.modseq > start);
        ms.push_back(i.modseq);
    }
    std::sort(ms.begin(), ms.end());
    CHECK(std::unique(ms.begin(), ms.end()) == ms.end());  // one modseq each
    CHECK(a->highestmodseq() == ms.back());

    // b changes 2 after a's modseq m; a's STORE UNCHANGEDSINCE m leaves 2 alone.
    const uint64_t m = a->highestmodseq();
    Uids u2{2};
    REQUIRE(b->store_flags(u2, {FlagOp::add, flag_answered, {}}));
    Uids some{1, 2, 3};
    r = a->store_flags(some, {FlagOp::add, flag_flagged, {}}, m);
    REQUIRE(r);
    CHECK(*r == Uids{2});
    REQUIRE(a->refresh());
    CHECK(a->find(1)->flags == (flag_seen | flag_flagged));
    CHECK(a->find(2)->flags == (flag_seen | flag_answered));
    CHECK(a->find(3)->flags == (flag_seen | flag_flagged));
    CHECK(a->find(4)->flags == flag_seen);
    // UNCHANGEDSINCE the message's own modseq is fine (only above it is MODIFIED).
    Uids u3{3};
    r = a->store_flags(u3, {FlagOp::add, flag_draft, {}}, a->info(3)->modseq);
    REQUIRE(r);
    CHECK(r->empty());
    CHECK(a->find(3)->flags == (flag_seen | flag_flagged | flag_draft));
    // A message expunged meanwhile is skipped, not an error.
    Uids u4{4};
    REQUIRE(b->expunge(u4));
    r = a->store_flags(u4, {FlagOp::add, flag_deleted, {}});
    REQUIRE(r);
    CHECK(r->empty());
    CHECK(f.store->status(bob, "INBOX")->messages == 3);
}

TEMPLATE_TEST_CASE("changes_since: changed and vanished from the change log", "[contract]", Maildir,
                   Memory) {
    TestType f;
    for (int i = 1; i <= 4; ++i) deliver(f, i);
    auto a = open(f);
    auto b = open(f);
    const uint64_t m0 = a->highestmodseq();
    Uids u1{1}, u2{2}, u3{3};
    REQUIRE(b->store_flags(u1, {FlagOp::add, flag_seen, {}}));
    REQUIRE(b->expunge(u2));
    REQUIRE(b->store_flags(u3, {FlagOp::add, flag_seen, {}}));
    REQUIRE(b->expunge(u3));  // changed, then gone: vanished only
    deliver(f, 5);
    REQUIRE(a->refresh());
    auto c = a->changes_since(m0);
    REQUIRE(c);
    CHECK(c->highestmodseq == a->highestmodseq());
    CHECK(c->changed == (Uids{1, 5}));
    CHECK(c->vanished == (Uids{2, 3}));
    CHECK(c->vanished_complete);
    // From 0: everything there; the log may not reach back that far (a Maildir folder's
    // log starts when it is first indexed), then vanished may miss some.
    c = a->changes_since(0);
    REQUIRE(c);
    CHECK(c->changed == (Uids{1, 4, 5}));
    const Uids gone{2, 3};
    if (c->vanished_complete)
        CHECK(c->vanished == gone);
    else
        CHECK(std::includes(gone.begin(), gone.end(), c->vanished.begin(), c->vanished.end()));
    const uint64_t m1 = a->highestmodseq();
    c = a->changes_since(m1);
    REQUIRE(c);
    CHECK(c->changed.empty());
    CHECK(c->vanished.empty());
    // From the log, whatever the snapshot holds: b's change before b's refresh.
    Uids u4{4};
    REQUIRE(a->store_flags(u4, {FlagOp::add, flag_flagged, {}}));
    c = b->changes_since(m1);
    REQUIRE(c);
    CHECK(c->changed == Uids{4});
    CHECK(c->highestmodseq == a->highestmodseq());

    // When the log no longer reaches back: vanished is not complete, changed lists every
    // message changed since.
    f.prune_log(bob, "INBOX");
    REQUIRE(a->refresh());
    c = a->changes_since(m0);
    REQUIRE(c);
    CHECK_FALSE(c->vanished_complete);
    CHECK(c->changed == (Uids{1, 4, 5}));
    c = a->changes_since(a->highestmodseq());
    REQUIRE(c);
    CHECK(c->vanished_complete);
    CHECK(c->changed.empty());
    CHECK(uids_of(*a) == (Uids{1, 4, 5}));
}

TEMPLATE_TEST_CASE("copy_to and move_to: UidMap, flags, keywords and dates kept", "[contract]",
                   Maildir, Memory) {
    TestType f;
    REQUIRE(f.store->create_folder(bob, "Archive"));
    for (int i = 1; i <= 3; ++i) {
        DeliveryOptions o;
        o.internal_date = 1000000000 + i;
        REQUIRE(f.store->deliver(bob, MessageSource::from_bytes(msg(i)), o));
    }
    auto mb = open(f);
    Uids u2{2};
    REQUIRE(mb->store_flags(u2, {FlagOp::add, flag_flagged | flag_seen, {"$Work"}}));
    const uint32_t dest_uv = f.store->status(bob, "Archive")->uidvalidity;

    Uids pick{3, 1, 2, 99, 3};  // any order, duplicates, unknown
    auto map = mb->copy_to(pick, "Archive");
    REQUIRE(map);
    CHECK(map->uidvalidity == dest_uv);
    CHECK(map->from == (Uids{1, 2, 3}));
    CHECK(map->to == (Uids{1, 2, 3}));
    CHECK(uids_of(*mb) == (Uids{1, 2, 3}));  // the source is unchanged
    auto arch = open(f, "Archive");
    CHECK(uids_of(*arch) == (Uids{1, 2, 3}));
    for (uint32_t i = 1; i <= 3; ++i) {
        auto from = mb->info(i), to = arch->info(i);
        REQUIRE(from);
        REQUIRE(to);
        CHECK(to->flags == from->flags);
        CHECK(to->keywords == from->keywords);
        CHECK(to->internal_date == 1000000000 + i);
        CHECK(to->size == from->size);
        CHECK(*arch->read_message(i) == msg(int(i)));
    }
    CHECK(arch->keywords_of(*arch->find(2)) == Words{"$Work"});

    auto other = open(f);
    Uids u12{1, 2};
    map = mb->move_to(u12, "Archive");
    REQUIRE(map);
    CHECK(map->from == (Uids{1, 2}));
    CHECK(map->to == (Uids{4, 5}));
    CHECK(uids_of(*mb) == Uids{3});  // gone from the mover's snapshot at once
    auto d = other->refresh();
    REQUIRE(d);
    CHECK(d->expunged == (Uids{1, 2}));
    d = arch->refresh();
    REQUIRE(d);
    CHECK(d->added == (Uids{4, 5}));
    CHECK(arch->info(5)->flags == (flag_flagged | flag_seen));
    CHECK(*arch->read_message(4) == msg(1));
    CHECK(f.store->status(bob, "INBOX")->messages == 1);
    CHECK(f.store->status(bob, "Archive")->messages == 5);
    CHECK(*f.store->usage(bob) == 6 * msg(1).size());

    // Errors; moving what is gone moves nothing.
    Uids u3{3};
    CHECK(mb->move_to(u3, "inbox").error() == StoreError::invalid);
    CHECK(mb->copy_to(u3, "Nowhere").error() == StoreError::not_found);
    CHECK(mb->copy_to(u3, "bad..name").error() == StoreError::invalid);
    map = mb->move_to(u12, "Archive");
    REQUIRE(map);
    CHECK(map->from.empty());
    CHECK(map->uidvalidity == dest_uv);
}

TEMPLATE_TEST_CASE("copy_to the same folder: new UIDs the handle sees after refresh", "[contract]",
                   Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    auto mb = open(f);
    Uids u1{1};
    auto map = mb->copy_to(u1, "INBOX");
    REQUIRE(map);
    CHECK(map->to == Uids{2});
    CHECK(uids_of(*mb) == Uids{1});
    auto d = mb->refresh();
    REQUIRE(d);
    CHECK(d->added == Uids{2});
    CHECK(uids_of(*mb) == (Uids{1, 2}));
    CHECK(*mb->read_message(2) == msg(1));
    check_status(f, *mb, "INBOX");
}

TEMPLATE_TEST_CASE("cache slot: versioned, shared by handles, gone with the message", "[contract]",
                   Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    deliver(f, 2);
    auto a = open(f);
    auto b = open(f);
    CHECK(*a->cache_get(1, 1) == std::nullopt);
    REQUIRE(a->cache_put(1, 1, "envelope-v1"));
    CHECK(*a->cache_get(1, 1) == "envelope-v1");
    CHECK(*a->cache_get(1, 2) == std::nullopt);  // another version
    CHECK(*b->cache_get(1, 1) == "envelope-v1");
    REQUIRE(b->cache_put(1, 2, "v2"));
    CHECK(*a->cache_get(1, 1) == std::nullopt);
    CHECK(*a->cache_get(1, 2) == "v2");
    CHECK(*a->cache_get(2, 2) == std::nullopt);
    CHECK(a->cache_get(7, 1).error() == StoreError::not_found);

    // Several at once (one commit on Maildir); a UID not there is skipped, not an error.
    const CacheSlot slots[] = {{1, "one"}, {7, "nobody"}, {2, "two"}};
    REQUIRE(a->cache_put_many(3, slots));
    CHECK(*a->cache_get(1, 3) == "one");
    CHECK(*a->cache_get(2, 3) == "two");
    CHECK(*b->cache_get(2, 3) == "two");
    CHECK(*a->cache_get(2, 2) == std::nullopt);
    REQUIRE(a->cache_put_many(3, {}));
    CHECK(a->cache_put(7, 1, "x").error() == StoreError::not_found);
    Uids u1{1};
    REQUIRE(b->expunge(u1));
    CHECK(*a->cache_get(1, 3) == std::nullopt);
    CHECK(a->cache_put(1, 2, "x").error() == StoreError::expunged);
    const CacheSlot after[] = {{1, "gone"}, {2, "two again"}};
    REQUIRE(a->cache_put_many(3, after));  // the expunged one is skipped
    CHECK(*a->cache_get(1, 3) == std::nullopt);
    CHECK(*a->cache_get(2, 3) == "two again");
}

TEMPLATE_TEST_CASE("status agrees with a snapshot after every kind of change", "[contract]",
                   Maildir, Memory) {
    TestType f;
    REQUIRE(f.store->create_folder(bob, "Archive"));
    auto mb = open(f);
    auto arch = open(f, "Archive");
    check_status(f, *mb, "INBOX");
    deliver(f, 1);
    deliver(f, 2);
    check_status(f, *mb, "INBOX");
    DeliveryOptions seen;
    seen.flags = flag_seen;
    REQUIRE(f.store->deliver(bob, MessageSource::from_bytes(msg(3)), seen));
    check_status(f, *mb, "INBOX");
    CHECK(f.store->status(bob, "INBOX")->unseen == 2);
    Uids u1{1}, u3{3};
    REQUIRE(mb->store_flags(u1, {FlagOp::add, flag_seen, {}}));
    check_status(f, *mb, "INBOX");
    REQUIRE(mb->store_flags(u3, {FlagOp::remove, flag_seen, {}}));
    check_status(f, *mb, "INBOX");
    REQUIRE(mb->store_flags(u1, {FlagOp::set, flag_deleted, {"k"}}));
    check_status(f, *mb, "INBOX");
    REQUIRE(mb->expunge(u1));
    check_status(f, *mb, "INBOX");
    Uids u2{2};
    REQUIRE(mb->copy_to(u2, "Archive"));
    check_status(f, *arch, "Archive");
    REQUIRE(mb->move_to(u3, "Archive"));
    check_status(f, *mb, "INBOX");
    check_status(f, *arch, "Archive");
    std::vector<std::string> users{bob, alice};
    f.store->deliver_many(users, MessageSource::from_bytes(msg(4)));
    std::vector<DeliveryBatchItem> items(1);
    items[0].users = {bob};
    items[0].msg = MessageSource::from_bytes(msg(5));
    items[0].opts.folder = "Archive";
    f.store->deliver_batch(items);
    check_status(f, *mb, "INBOX");
    check_status(f, *arch, "Archive");
    auto st = f.store->status(bob, "Archive");
    CHECK(st->messages == 3);
    CHECK(st->unseen == 3);
    CHECK(st->uidnext == 4);
    CHECK(f.store->status(bob, "Nope").error() == StoreError::not_found);
    CHECK(f.store->status(bob, "bad..x").error() == StoreError::invalid);
    CHECK(f.store->status("ghost@example.com", "INBOX").error() == StoreError::not_found);
}

TEMPLATE_TEST_CASE("folders: create, list, delete, rename", "[contract]", Maildir, Memory) {
    TestType f;
    REQUIRE(f.store->create_folder(bob, "Zeta"));
    REQUIRE(f.store->create_folder(bob, "Archive"));
    REQUIRE(f.store->create_folder(bob, "Archive/2024"));
    auto names = f.store->list_folders(bob);
    REQUIRE(names);
    REQUIRE(!names->empty());
    CHECK(names->front() == "INBOX");
    CHECK(std::is_sorted(names->begin() + 1, names->end()));
    for (const char* n : {"Zeta", "Archive", "Archive/2024"})
        CHECK(std::find(names->begin(), names->end(), n) != names->end());
    CHECK(f.store->create_folder(bob, "Archive").error() == StoreError::exists);
    CHECK(f.store->create_folder(bob, "inbox").error() == StoreError::exists);
    for (const char* bad : {"bad..name", "", "/x", ".x", "a//b", "x/", "a\\b"})
        CHECK(f.store->create_folder(bob, bad).error() == StoreError::invalid);
    CHECK(f.store->create_folder("ghost@example.com", "X").error() == StoreError::not_found);
    CHECK(f.store->list_folders("ghost@example.com").error() == StoreError::not_found);

    // Delete: not INBOX, not a parent; the messages go (and their octets from usage).
    CHECK(f.store->delete_folder(bob, "INBOX").error() == StoreError::invalid);
    CHECK(f.store->delete_folder(bob, "Archive").error() == StoreError::not_empty);
    CHECK(f.store->delete_folder(bob, "Nope").error() == StoreError::not_found);
    deliver(f, 1, "Zeta");
    auto zeta = open(f, "Zeta");
    const uint32_t old_uv = zeta->uidvalidity();
    REQUIRE(f.store->create_folder(bob, "Tmp"));
    deliver(f, 5, "Tmp");  // never opened
    REQUIRE(f.store->delete_folder(bob, "Tmp"));
    REQUIRE(f.store->delete_folder(bob, "Zeta"));
    CHECK(*f.store->usage(bob) == 0);
    CHECK(f.store->open_mailbox(bob, "Zeta").error() == StoreError::not_found);
    CHECK(zeta->refresh().error() == StoreError::not_found);
    Uids u1{1};
    CHECK(zeta->store_flags(u1, {FlagOp::add, flag_seen, {}}).error() == StoreError::not_found);
    CHECK(zeta->expunge(u1).error() == StoreError::not_found);
    // The same name again is another folder: a new UIDVALIDITY, UIDs from 1, and a handle
    // on the old one sees everything it had go and the new messages arrive.
    REQUIRE(f.store->create_folder(bob, "Zeta"));
    CHECK(deliver(f, 2, "Zeta").uid == 1);
    auto d = zeta->refresh();
    REQUIRE(d);
    CHECK(zeta->uidvalidity() != old_uv);
    CHECK(d->expunged == Uids{1});
    CHECK(d->added == Uids{1});
    CHECK(*zeta->read_message(1) == msg(2));

    // Rename keeps UIDVALIDITY and UIDs and takes the subfolders along.
    deliver(f, 3, "Archive");
    deliver(f, 4, "Archive/2024");
    const uint32_t uv = f.store->status(bob, "Archive")->uidvalidity;
    const uint32_t uv2 = f.store->status(bob, "Archive/2024")->uidvalidity;
    CHECK(f.store->rename_folder(bob, "INBOX", "Old").error() == StoreError::invalid);
    CHECK(f.store->rename_folder(bob, "Archive", "inbox").error() == StoreError::invalid);
    CHECK(f.store->rename_folder(bob, "Archive", "Archive").error() == StoreError::invalid);
    CHECK(f.store->rename_folder(bob, "Archive", "Archive/x").error() == StoreError::invalid);
    CHECK(f.store->rename_folder(bob, "Nope", "X").error() == StoreError::not_found);
    CHECK(f.store->rename_folder(bob, "Archive", "Zeta").error() == StoreError::exists);
    CHECK(f.store->rename_folder(bob, "Archive", "a..b").error() == StoreError::invalid);
    REQUIRE(f.store->rename_folder(bob, "Archive", "Old"));
    names = f.store->list_folders(bob);
    REQUIRE(names);
    CHECK(std::find(names->begin(), names->end(), "Archive") == names->end());
    CHECK(std::find(names->begin(), names->end(), "Archive/2024") == names->end());
    CHECK(std::find(names->begin(), names->end(), "Old/2024") != names->end());
    auto old = open(f, "Old");
    CHECK(old->uidvalidity() == uv);
    CHECK(uids_of(*old) == Uids{1});
    CHECK(*old->read_message(1) == msg(3));
    auto old2 = open(f, "Old/2024");
    CHECK(old2->uidvalidity() == uv2);
    CHECK(*old2->read_message(1) == msg(4));
    CHECK(f.store->status(bob, "Old")->uidnext == 2);
    CHECK(f.store->open_mailbox(bob, "Archive").error() == StoreError::not_found);
}

TEMPLATE_TEST_CASE("rename_folder is all or nothing", "[contract]", Maildir, Memory) {
    TestType f;
    REQUIRE(f.store->create_folder(bob, "A"));
    REQUIRE(f.store->create_folder(bob, "A/x"));
    REQUIRE(f.store->create_folder(bob, "B/x"));  // "B" itself does not exist
    deliver(f, 1, "A");
    const uint32_t uv = f.store->status(bob, "A")->uidvalidity;
    CHECK(f.store->rename_folder(bob, "A", "B").error() == StoreError::exists);
    auto names = f.store->list_folders(bob);
    REQUIRE(names);
    CHECK(std::find(names->begin(), names->end(), "A") != names->end());
    CHECK(std::find(names->begin(), names->end(), "A/x") != names->end());
    CHECK(std::find(names->begin(), names->end(), "B") == names->end());
    auto a = open(f, "A");
    CHECK(a->uidvalidity() == uv);
    CHECK(*a->read_message(1) == msg(1));
}

TEMPLATE_TEST_CASE("special-use, subscriptions and has_children", "[contract]", Maildir, Memory) {
    TestType f;
    REQUIRE(f.store->create_folder(bob, "Archive", use_archive));
    REQUIRE(f.store->create_folder(bob, "Archive/2024"));
    REQUIRE(f.store->create_folder(bob, "Spam"));
    REQUIRE(f.store->set_special_use(bob, "Spam", use_junk));
    CHECK(f.store->set_special_use(bob, "Nope", use_junk).error() == StoreError::not_found);
    CHECK(f.store->set_special_use(bob, "bad..x", use_junk).error() == StoreError::invalid);
    CHECK(f.store->set_special_use(bob, "Spam", 0x80).error() == StoreError::invalid);
    CHECK(f.store->create_folder(bob, "Odd", 0x80).error() == StoreError::invalid);
    CHECK(f.store->status(bob, "Odd").error() == StoreError::not_found);  // not half made
    REQUIRE(f.store->set_subscribed(bob, "Archive", true));
    REQUIRE(f.store->set_subscribed(bob, "inbox", true));
    REQUIRE(f.store->set_subscribed(bob, "NotThere", true));  // names, RFC 3501
    REQUIRE(f.store->set_subscribed(bob, "Spam", true));
    REQUIRE(f.store->set_subscribed(bob, "Spam", false));
    CHECK(f.store->set_subscribed(bob, "bad..x", true).error() == StoreError::invalid);
    CHECK(f.store->set_subscribed("ghost@example.com", "X", true).error() == StoreError::not_found);
    auto subs = f.store->subscriptions(bob);
    REQUIRE(subs);
    std::sort(subs->begin(), subs->end());
    CHECK(*subs == (Words{"Archive", "INBOX", "NotThere"}));
    CHECK(f.store->subscriptions("ghost@example.com").error() == StoreError::not_found);

    auto list = f.store->folders(bob);
    REQUIRE(list);
    auto entry = [&](const std::string& n) -> FolderEntry {
        for (const auto& e : *list)
            if (e.name == n) return e;
        FAIL("no folder " << n);
        return {};
    };
    CHECK(entry("Archive").special_use == use_archive);
    CHECK(entry("Archive").subscribed);
    CHECK(entry("Archive").has_children);
    CHECK(entry("Archive/2024").special_use == 0);
    CHECK_FALSE(entry("Archive/2024").has_children);
    CHECK_FALSE(entry("Archive/2024").subscribed);
    CHECK(entry("Spam").special_use == use_junk);
    CHECK_FALSE(entry("Spam").subscribed);
    CHECK(entry("INBOX").subscribed);
    // Subscriptions are names: they stay when the folder goes.
    REQUIRE(f.store->delete_folder(bob, "Archive/2024"));
    REQUIRE(f.store->set_subscribed(bob, "Archive/2024", true));
    list = f.store->folders(bob);
    REQUIRE(list);
    CHECK_FALSE(entry("Archive").has_children);
    subs = f.store->subscriptions(bob);
    REQUIRE(subs);
    CHECK(std::find(subs->begin(), subs->end(), "Archive/2024") != subs->end());

    // Special-use goes with a renamed folder; subscriptions stay with the names.
    REQUIRE(f.store->rename_folder(bob, "Archive", "Old"));
    list = f.store->folders(bob);
    REQUIRE(list);
    CHECK(entry("Old").special_use == use_archive);
    CHECK_FALSE(entry("Old").subscribed);
    subs = f.store->subscriptions(bob);
    REQUIRE(subs);
    CHECK(std::find(subs->begin(), subs->end(), "Archive") != subs->end());
    // A folder made again under an old name starts without the old one's special-use.
    REQUIRE(f.store->delete_folder(bob, "Spam"));
    REQUIRE(f.store->create_folder(bob, "Spam"));
    list = f.store->folders(bob);
    REQUIRE(list);
    CHECK(entry("Spam").special_use == 0);
}

TEMPLATE_TEST_CASE("try_lock_maildrop: in_use until the holder lets go", "[contract]", Maildir,
                   Memory) {
    TestType f;
    auto l1 = f.store->try_lock_maildrop(bob);
    REQUIRE(l1);
    CHECK(l1->held());
    CHECK(f.store->try_lock_maildrop("Bob@example.com").error() == StoreError::in_use);
    auto other = f.store->try_lock_maildrop(alice);
    CHECK(other);
    *l1 = MaildropLock();  // released
    auto l2 = f.store->try_lock_maildrop(bob);
    REQUIRE(l2);
    CHECK(l2->held());
    CHECK(f.store->try_lock_maildrop("ghost@example.com").error() == StoreError::not_found);
    CHECK(f.store->try_lock_maildrop("not an address").error() == StoreError::invalid);
}

TEMPLATE_TEST_CASE("watch: another handle's change calls back within a second", "[contract]",
                   Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    std::atomic<int> calls{0};
    auto w = f.store->watch(bob, "inbox", [&calls] { ++calls; });
    REQUIRE(w);
    auto other = open(f);
    Uids u1{1};
    REQUIRE(other->store_flags(u1, {FlagOp::add, flag_seen, {}}));
    CHECK(wait_for(calls, 1, std::chrono::seconds(1)));
    int seen = calls.load();
    deliver(f, 2);
    CHECK(wait_for(calls, seen + 1, std::chrono::seconds(1)));
    seen = calls.load();
    REQUIRE(other->expunge(u1));
    CHECK(wait_for(calls, seen + 1, std::chrono::seconds(1)));
    CHECK(f.store->watch(bob, "Nope", [] {}).error() == StoreError::not_found);
    CHECK(f.store->watch("ghost@example.com", "INBOX", [] {}).error() == StoreError::not_found);
    // A watch on another folder; after a watch goes, no more calls.
    REQUIRE(f.store->create_folder(bob, "Archive"));
    std::atomic<int> arch{0};
    auto wa = f.store->watch(bob, "Archive", [&arch] { ++arch; });
    REQUIRE(wa);
    deliver(f, 3, "Archive");
    CHECK(wait_for(arch, 1, std::chrono::seconds(1)));
    w->reset();
    seen = calls.load();
    deliver(f, 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(calls.load() == seen);
}

TEMPLATE_TEST_CASE("create_user and remove_user", "[contract]", Maildir, Memory) {
    TestType f;
    const std::string carol = "carol@example.com";
    CHECK(f.store->open_mailbox(carol).error() == StoreError::not_found);
    REQUIRE(f.store->create_user("Carol@Example.com"));
    CHECK(f.store->create_user(carol).error() == StoreError::exists);
    CHECK(f.store->create_user("not an address").error() == StoreError::invalid);
    auto mb = open(f, "INBOX", carol);
    CHECK(mb->messages().empty());
    auto names = f.store->list_folders(carol);
    REQUIRE(names);
    CHECK(names->front() == "INBOX");
    CHECK(deliver(f, 1, "INBOX", carol).uid == 1);
    REQUIRE(mb->refresh());
    REQUIRE(f.store->remove_user(carol));
    CHECK(f.store->open_mailbox(carol).error() == StoreError::not_found);
    CHECK(mb->refresh().error() == StoreError::not_found);
    CHECK(f.store->try_lock_maildrop(carol).error() == StoreError::not_found);
    CHECK(f.store->deliver(carol, MessageSource::from_bytes(msg(2))).error() ==
          StoreError::not_found);
    CHECK(f.store->usage(carol).error() == StoreError::not_found);
    CHECK(f.store->remove_user(carol).error() == StoreError::not_found);
    CHECK(f.store->remove_user("ghost@example.com").error() == StoreError::not_found);
    // A later user of that name starts empty: the old mail is never reused.
    REQUIRE(f.store->create_user(carol));
    CHECK(open(f, "INBOX", carol)->messages().empty());
    CHECK(*f.store->usage(carol) == 0);
    CHECK(open(f)->messages().empty());  // bob untouched
}

TEMPLATE_TEST_CASE("error cases: unknown users, folders, uids; bad names", "[contract]", Maildir,
                   Memory) {
    TestType f;
    CHECK(f.store->open_mailbox("ghost@example.com").error() == StoreError::not_found);
    CHECK(f.store->open_mailbox("not an address").error() == StoreError::invalid);
    CHECK(f.store->open_mailbox(bob, "Nope").error() == StoreError::not_found);
    CHECK(f.store->open_mailbox(bob, "a..b").error() == StoreError::invalid);
    CHECK(f.store->usage("ghost@example.com").error() == StoreError::not_found);
    CHECK(f.store->rebuild_index("ghost@example.com").error() == StoreError::not_found);
    CHECK(f.store->delete_folder("ghost@example.com", "X").error() == StoreError::not_found);
    CHECK(f.store->rename_folder("ghost@example.com", "X", "Y").error() == StoreError::not_found);
    deliver(f, 1);
    auto a = open(f);
    auto b = open(f);
    CHECK(a->find(7) == nullptr);
    CHECK(a->info(7).error() == StoreError::not_found);
    CHECK(a->open_message(7).error() == StoreError::not_found);
    auto none = a->info(Uids{7, 8});
    REQUIRE(none);
    CHECK(none->empty());
    Uids u1{1}, u7{7};
    CHECK(a->expunge(u7));  // nothing there: nothing to do
    REQUIRE(b->expunge(u1));
    CHECK(a->find(1) != nullptr);
    CHECK(a->open_message(1).error() == StoreError::expunged);
    CHECK(a->info(1).error() == StoreError::expunged);
    CHECK(a->expunge(u1));
    auto d = a->refresh();
    REQUIRE(d);
    CHECK(d->expunged == Uids{1});
}

TEMPLATE_TEST_CASE("rebuild_index keeps what a snapshot sees; has_room", "[contract]", Maildir,
                   Memory) {
    TestType f;
    for (int i = 1; i <= 3; ++i) deliver(f, i);
    REQUIRE(f.store->create_folder(bob, "Archive"));
    deliver(f, 4, "Archive");
    auto mb = open(f);
    Uids u2{2};
    REQUIRE(mb->store_flags(u2, {FlagOp::add, flag_answered, {"$Work"}}));
    DeliveryOptions dated;
    dated.internal_date = 1000000000;
    REQUIRE(f.store->deliver(bob, MessageSource::from_bytes(msg(5)), dated));
    REQUIRE(mb->refresh());
    const uint32_t uv = mb->uidvalidity();
    auto st = f.store->rebuild_index(bob);
    REQUIRE(st);
    CHECK(st->messages == 5);
    CHECK(f.store->rebuild_all());
    auto after = open(f);
    CHECK(after->uidvalidity() == uv);
    CHECK(uids_of(*after) == (Uids{1, 2, 3, 4}));
    CHECK(after->find(2)->flags == flag_answered);
    CHECK(after->keywords_of(*after->find(2)) == Words{"$Work"});
    CHECK(after->info(4)->internal_date == 1000000000);
    CHECK(after->uidnext() == 5);
    CHECK(*after->read_message(3) == msg(3));
    CHECK(*f.store->usage(bob) == 5 * msg(1).size());
    auto d = mb->refresh();
    REQUIRE(d);
    CHECK(d->empty());
    check_status(f, *mb, "INBOX");

    CHECK(f.store->has_room(1));
    CHECK_FALSE(f.store->has_room(1ull << 62));
}

// mailctl's user add / user del / domain del --force run these around the account change
// and undo them when it fails (ctl/account_storage.h).
TEMPLATE_TEST_CASE("create_user refuses storage that is there; discard_user undoes an empty one",
                   "[contract][user]", Maildir, Memory) {
    TestType f;
    const std::string carol = "carol@example.com";
    REQUIRE(f.store->create_user(carol));
    deliver(f, 1, "INBOX", carol);
    // A leftover with mail is neither taken over nor thrown away.
    CHECK(f.store->create_user(carol).error() == StoreError::exists);
    CHECK(f.store->discard_user(carol).error() == StoreError::not_empty);
    CHECK(open(f, "INBOX", carol)->messages().size() == 1);
    CHECK(f.store->discard_user("ghost@example.com").error() == StoreError::not_found);
    CHECK(f.store->discard_user("not an address").error() == StoreError::invalid);
    // Just made (a user add whose account then failed): it goes, and may be made again.
    const std::string dave = "dave@example.com";
    REQUIRE(f.store->create_user(dave));
    REQUIRE(f.store->discard_user(dave));
    CHECK(f.store->open_mailbox(dave).error() == StoreError::not_found);
    CHECK(f.store->discard_user(dave).error() == StoreError::not_found);
    REQUIRE(f.store->create_user(dave));
    CHECK(open(f, "INBOX", dave)->messages().empty());
}

TEMPLATE_TEST_CASE("remove_user then create_user of the same name: a new, empty user",
                   "[contract][user]", Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    deliver(f, 2);
    auto first = f.store->remove_user(bob);
    REQUIRE(first);
    CHECK_FALSE(first->empty());
    REQUIRE(f.store->create_user(bob));
    CHECK(open(f)->messages().empty());
    CHECK(*f.store->usage(bob) == 0);
    CHECK(deliver(f, 3).uid == 1);
    auto second = f.store->remove_user(bob);
    REQUIRE(second);
    INFO("kept in " << *first << " and " << *second);
    CHECK(*first != *second);                            // each owner's mail kept apart
    CHECK(open(f, "INBOX", alice)->messages().empty());  // alice untouched
}

TEMPLATE_TEST_CASE("restore_user undoes remove_user", "[contract][user]", Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    REQUIRE(f.store->create_folder(bob, "Archive"));
    deliver(f, 2, "Archive");
    const uint64_t used = *f.store->usage(bob);
    auto kept = f.store->remove_user(bob);
    REQUIRE(kept);
    CHECK(f.store->open_mailbox(bob).error() == StoreError::not_found);
    // Only the user it was kept for, and only while the name has no storage again.
    CHECK(f.store->restore_user(alice, *kept).error() == StoreError::invalid);
    CHECK(f.store->restore_user(bob, "elsewhere").error() == StoreError::invalid);
    REQUIRE(f.store->create_user(bob));
    CHECK(f.store->restore_user(bob, *kept).error() == StoreError::exists);
    REQUIRE(f.store->discard_user(bob));
    REQUIRE(f.store->restore_user(bob, *kept));
    auto mb = open(f);
    REQUIRE(mb->messages().size() == 1);
    CHECK(open(f, "Archive")->messages().size() == 1);
    CHECK(*f.store->usage(bob) == used);
    CHECK(deliver(f, 3).uid == 2);  // the UIDs go on
    // Nothing is kept there any more.
    auto again = f.store->remove_user(bob);
    REQUIRE(again);
    CHECK(f.store->restore_user(bob, *kept).error() == StoreError::not_found);
    REQUIRE(f.store->restore_user(bob, *again));
}

namespace {

// A finished staged message of bob's with `bytes`, written in pieces of 7.
template <class F>
std::unique_ptr<StagedMessage> staged(F& f, const std::string& bytes) {
    auto m = f.store->stage_message(bob);
    REQUIRE(m);
    for (size_t i = 0; i < bytes.size(); i += 7) REQUIRE((*m)->write(bytes.substr(i, 7)));
    CHECK((*m)->size() == bytes.size());
    REQUIRE((*m)->finish());
    return std::move(*m);
}

}  // namespace

TEMPLATE_TEST_CASE("deliver_staged: written in pieces, delivered together, flags and dates kept",
                   "[contract][staged]", Maildir, Memory) {
    TestType f;
    deliver(f, 1);
    {
        auto a = staged(f, msg(2)), b = staged(f, msg(3));
        std::vector<StagedItem> items(2);
        items[0] = {a.get(), flag_seen | flag_draft, {"$Label1"}, 1000000000};
        items[1] = {b.get(), 0, {}, 0};
        auto mb = open(f);
        auto d = f.store->deliver_staged(bob, "inbox", items);
        REQUIRE(d);
        REQUIRE(d->size() == 2);
        CHECK((*d)[0].uid == 2);
        CHECK((*d)[1].uid == 3);
        CHECK((*d)[0].uidvalidity == mb->uidvalidity());
        REQUIRE(mb->refresh());
        CHECK(uids_of(*mb) == Uids{1, 2, 3});
        CHECK(*mb->read_message(2) == msg(2));
        CHECK(*mb->read_message(3) == msg(3));
        auto i = mb->info(2);
        REQUIRE(i);
        CHECK(i->flags == (flag_seen | flag_draft));
        CHECK(i->keywords == Words{"$Label1"});
        CHECK(i->internal_date == 1000000000);
        CHECK(mb->info(3)->internal_date > 1000000000);
        CHECK(*f.store->usage(bob) == msg(1).size() + msg(2).size() + msg(3).size());
    }
    CHECK(f.staged_left() == 0);  // the staged files went with their handles
    // Nothing delivered: no message, and nothing left once the handle goes.
    {
        auto m = f.store->stage_message(bob);
        REQUIRE(m);
        REQUIRE((*m)->write("half a message"));
    }
    CHECK(f.staged_left() == 0);
    CHECK(open(f)->messages().size() == 3);
}

TEMPLATE_TEST_CASE("deliver_staged is all or nothing", "[contract][staged]", Maildir, Memory) {
    TestType f;
    const uint64_t m = msg(1).size();
    auto a = staged(f, msg(1)), b = staged(f, msg(2));
    std::vector<StagedItem> items{{a.get(), 0, {}, 0}, {b.get(), 0, {}, 0}};
    CHECK(f.store->deliver_staged(bob, "NoSuchFolder", items).error() == StoreError::not_found);
    CHECK(f.store->deliver_staged("ghost@example.com", "INBOX", items).error() ==
          StoreError::not_found);
    CHECK(f.store->deliver_staged(bob, "bad..name", items).error() == StoreError::invalid);
    // The quota counts both: room for one is not enough.
    f.quota = m + m / 2;
    CHECK(*f.store->quota_room(bob) == m + m / 2);
    CHECK(f.store->deliver_staged(bob, "INBOX", items).error() == StoreError::over_quota);
    CHECK(open(f)->messages().empty());
    CHECK(*f.store->usage(bob) == 0);
    CHECK(f.store->status(bob, "INBOX")->uidnext == 1);
    // An unfinished message is refused.
    auto open_one = f.store->stage_message(bob);
    REQUIRE(open_one);
    std::vector<StagedItem> bad{{a.get(), 0, {}, 0}, {open_one->get(), 0, {}, 0}};
    f.quota = 0;
    CHECK(*f.store->quota_room(bob) == UINT64_MAX);
    CHECK(f.store->deliver_staged(bob, "INBOX", bad).error() == StoreError::invalid);
    CHECK(open(f)->messages().empty());
    // And then the same two go in.
    auto d = f.store->deliver_staged(bob, "INBOX", items);
    REQUIRE(d);
    CHECK((*d)[1].uid == 2);
    f.quota = 2 * m + 5;
    CHECK(*f.store->quota_room(bob) == 5);
    f.quota = m;
    CHECK(*f.store->quota_room(bob) == 0);
    CHECK(f.store->quota_room("ghost@example.com").error() == StoreError::not_found);
}
