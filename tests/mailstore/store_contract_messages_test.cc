// The MailStore contract: delivery, quota, snapshots and refresh, flags and MODSEQ, the change
// log, COPY/MOVE, the cache slot and status, on both backends.
#include "tests/mailstore/store_contract.h"

using namespace postern;
using namespace contract;

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
