// The MailStore contract: folders (create, delete, rename, special-use, subscriptions), the
// maildrop lock and watches, on both backends.
#include "tests/mailstore/store_contract.h"

using namespace postern;
using namespace contract;

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
