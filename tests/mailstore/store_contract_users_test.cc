// The MailStore contract: users (create, remove, restore), error cases, index rebuild and
// staged messages, on both backends.
#include "tests/mailstore/store_contract.h"

using namespace postern;
using namespace contract;

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
