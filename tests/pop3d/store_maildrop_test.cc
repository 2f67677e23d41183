// pop3d's Maildrop adapter (pop3d/store_maildrop.cc) over the in-memory MailStore with
// injected faults: how store errors reach the POP3 engine, the maildrop lock, the snapshot,
// and \Seen noted at RETR but written once, at QUIT. Then a whole session over it.
#include "pop3d/store_maildrop.h"

#include <catch2/catch.hpp>

#include "libproto/core/line_reader.h"
#include "tests/support/memory_store.h"

using namespace postern;

namespace {

const std::string bob = "bob@example.com";

std::string msg(int n) {
    return "Subject: m" + std::to_string(n) + "\r\n\r\nbody " + std::to_string(n) + "\r\n";
}

struct Fixture {
    MemoryStore mem;
    Fixture(int messages = 3) {
        REQUIRE(mem.create_user(bob));
        for (int i = 1; i <= messages; ++i)
            REQUIRE(mem.deliver(bob, MessageSource::from_bytes(msg(i))));
    }
    std::unique_ptr<Maildrop> open(bool exclusive = true) {
        auto d = open_store_maildrop(mem, bob, exclusive);
        REQUIRE(d);
        return std::move(*d);
    }
    uint8_t flags_of(uint32_t uid) {
        auto mb = mem.open_mailbox(bob);
        REQUIRE(mb);
        const MessageEntry* e = (*mb)->find(uid);
        return e ? e->flags : 0xff;
    }
};

std::expected<std::string, MaildropError> retr(Maildrop& d, uint32_t uid) {
    auto s = d.open(uid);
    if (!s) return std::unexpected(s.error());
    std::string out;
    char buf[7];  // small pieces
    for (;;) {
        auto n = (*s)->read(buf);
        if (!n) return std::unexpected(n.error());
        if (*n == 0) return out;
        out.append(buf, *n);
    }
}

}  // namespace

TEST_CASE("store maildrop: the snapshot with exact sizes and the UIDVALIDITY", "[pop3d]") {
    Fixture f;
    auto d = f.open();
    REQUIRE(d->messages().size() == 3);
    for (uint32_t i = 0; i < 3; ++i) {
        CHECK(d->messages()[i].uid == i + 1);
        CHECK(d->messages()[i].size == msg(int(i) + 1).size());
    }
    CHECK(d->uid_validity() == f.mem.status(bob, "INBOX")->uidvalidity);
    CHECK(*retr(*d, 2) == msg(2));
    // New mail waits for the next session.
    REQUIRE(f.mem.deliver(bob, MessageSource::from_bytes(msg(4))));
    CHECK(d->messages().size() == 3);
}

TEST_CASE("store maildrop: store errors as the engine sees them", "[pop3d]") {
    Fixture f;
    SECTION("temporary on open: [SYS/TEMP]") {
        f.mem.fail_on("open_mailbox", StoreError::temporary);
        CHECK(open_store_maildrop(f.mem, bob, true).error() == MaildropError::temporary);
        CHECK(open_store_maildrop(f.mem, bob, true));  // the lock went with the failure
    }
    SECTION("the lock cannot be taken") {
        f.mem.fail_on("try_lock_maildrop", StoreError::temporary);
        CHECK(open_store_maildrop(f.mem, bob, true).error() == MaildropError::temporary);
    }
    SECTION("sizes cannot be read") {
        f.mem.fail_on("info", StoreError::temporary);
        CHECK(open_store_maildrop(f.mem, bob, true).error() == MaildropError::temporary);
    }
    SECTION("a broken index is permanent") {
        f.mem.fail_on("open_mailbox", StoreError::corrupt);
        CHECK(open_store_maildrop(f.mem, bob, true).error() == MaildropError::permanent);
    }
    SECTION("no such user") {
        CHECK(open_store_maildrop(f.mem, "ghost@example.com", true).error() ==
              MaildropError::permanent);
        CHECK(open_store_maildrop(f.mem, "ghost@example.com", false).error() ==
              MaildropError::permanent);
    }
    SECTION("RETR of a message another session removed: vanished") {
        auto d = f.open();
        auto other = f.mem.open_mailbox(bob);
        REQUIRE(other);
        std::vector<uint32_t> one{1};
        REQUIRE((*other)->expunge(one));
        CHECK(retr(*d, 1).error() == MaildropError::vanished);
        CHECK(*retr(*d, 2) == msg(2));
    }
    SECTION("a read that fails mid-message") {
        auto d = f.open();
        auto s = d->open(1);
        REQUIRE(s);
        char buf[4];
        REQUIRE((*s)->read(buf));
        f.mem.fail_on("read", StoreError::temporary);
        CHECK((*s)->read(buf).error() == MaildropError::temporary);
        f.mem.fail_on("open_message", StoreError::temporary);
        CHECK(d->open(2).error() == MaildropError::temporary);
    }
}

TEST_CASE("store maildrop: one exclusive session at a time", "[pop3d]") {
    Fixture f;
    auto first = f.open();
    CHECK(open_store_maildrop(f.mem, bob, true).error() == MaildropError::in_use);
    CHECK(open_store_maildrop(f.mem, bob, false));  // pop3d.allow_concurrent_sessions
    first.reset();
    CHECK(open_store_maildrop(f.mem, bob, true));
}

TEST_CASE("store maildrop: \\Seen noted at RETR, written once at QUIT", "[pop3d]") {
    Fixture f;
    std::vector<uint32_t> three{3};
    {
        auto mb = f.mem.open_mailbox(bob);
        REQUIRE(mb);
        REQUIRE((*mb)->store_flags(three, {FlagOp::add, flag_seen, {}}));
    }
    const int before = f.mem.calls("store_flags");
    auto d = f.open();
    CHECK(d->mark_seen(1));
    CHECK(d->mark_seen(2));
    CHECK(d->mark_seen(1));
    CHECK(d->mark_seen(3));   // already \Seen: nothing to write
    CHECK(d->mark_seen(99));  // not in the snapshot
    CHECK(f.mem.calls("store_flags") == before);
    CHECK(f.flags_of(1) == 0);

    SECTION("QUIT without deletions") {
        CHECK(d->expunge({}));
        CHECK(f.mem.calls("store_flags") == before + 1);
        CHECK(f.mem.calls("expunge") == 0);
        CHECK(f.flags_of(1) == flag_seen);
        CHECK(f.flags_of(2) == flag_seen);
        CHECK(d->expunge({}));  // nothing left to write
        CHECK(f.mem.calls("store_flags") == before + 1);
    }
    SECTION("QUIT with deletions") {
        std::vector<uint32_t> two{2};
        CHECK(d->expunge(two));
        CHECK(f.mem.calls("store_flags") == before + 1);
        CHECK(f.mem.calls("expunge") == 1);
        CHECK(f.flags_of(1) == flag_seen);
        CHECK(f.flags_of(2) == 0xff);  // gone
    }
    SECTION("the \\Seen write fails: deletions still happen") {
        f.mem.fail_on("store_flags", StoreError::temporary);
        std::vector<uint32_t> two{2};
        CHECK(d->expunge(two));
        CHECK(f.flags_of(2) == 0xff);
        CHECK(f.flags_of(1) == 0);
    }
    SECTION("the \\Seen write fails, nothing to delete: the error says so") {
        f.mem.fail_on("store_flags", StoreError::temporary);
        CHECK(d->expunge({}).error() == MaildropError::temporary);
        CHECK(d->expunge({}));  // kept, and written by the next try
        CHECK(f.flags_of(1) == flag_seen);
    }
    SECTION("the deletion fails") {
        f.mem.fail_on("expunge", StoreError::no_space);
        std::vector<uint32_t> two{2};
        CHECK(d->expunge(two).error() == MaildropError::temporary);
        CHECK(f.flags_of(2) == flag_seen);
    }
}

namespace {

// A POP3 session over the adapter: logins for bob (password "pw"), maildrops from the
// memory store, store calls run as pop3d runs them (defer_store), here in line.
struct StoreBackendForTest : Pop3Backend {
    MemoryStore& mem;
    SaslCallbacks cb;
    explicit StoreBackendForTest(MemoryStore& m) : mem(m) {
        cb.resolve_login = [](std::string_view l) -> std::expected<std::string, SaslLookupError> {
            if (l != bob) return std::unexpected(SaslLookupError::not_found);
            return std::string(l);
        };
        cb.verify_password = [](std::string_view, std::string_view pw) {
            return pw == "pw" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
    }
    const SaslCallbacks& sasl_callbacks() override { return cb; }
    std::expected<std::unique_ptr<Maildrop>, MaildropError> open_maildrop(
        const std::string& user) override {
        return open_store_maildrop(mem, user, true);
    }
};

struct Session {
    StoreBackendForTest be;
    Pop3Session s;
    LineReader reader{{.max_line = pop3_max_sasl_line}};
    int store_calls = 0;

    explicit Session(MemoryStore& m) : be(m), s(be, options()) {
        s.start();
        (void)s.take_output();
    }
    static Pop3SessionOptions options() {
        Pop3SessionOptions o;
        o.hostname = "mail.test";
        o.tls_active = true;
        o.defer_store = true;
        return o;
    }
    std::string cmd(const std::string& line) {
        std::string in = line + "\r\n";
        REQUIRE(reader.feed(in));
        while (auto ev = reader.next()) s.on_line(ev->data);
        std::string out;
        for (int guard = 0; guard < 10000; ++guard) {
            out += s.take_output();
            if (s.wait() == Pop3Wait::output) {
                s.output_drained();
            } else if (s.wait() == Pop3Wait::store) {
                ++store_calls;
                s.take_store_work()();
                s.store_done();
            } else {
                break;
            }
        }
        return out + s.take_output();
    }
};

}  // namespace

TEST_CASE("pop3 session over the store maildrop: RETR, DELE, QUIT", "[pop3d]") {
    Fixture f;
    Session c(f.mem);
    REQUIRE(c.cmd("USER " + bob).starts_with("+OK"));
    REQUIRE(c.cmd("PASS pw").starts_with("+OK"));
    CHECK(c.cmd("STAT") ==
          "+OK 3 " + std::to_string(msg(1).size() + msg(2).size() + msg(3).size()) + "\r\n");
    std::string uidl = c.cmd("UIDL 2");
    CHECK(uidl.starts_with("+OK 2 "));
    std::string r = c.cmd("RETR 1");
    CHECK(r == "+OK " + std::to_string(msg(1).size()) + " octets\r\n" + msg(1) + ".\r\n");
    CHECK(c.cmd("DELE 2").starts_with("+OK"));
    // A second session meanwhile is refused.
    Session other(f.mem);
    REQUIRE(other.cmd("USER " + bob).starts_with("+OK"));
    CHECK(other.cmd("PASS pw").starts_with("-ERR [IN-USE]"));
    const int flags_before = f.mem.calls("store_flags");
    CHECK(c.cmd("QUIT").starts_with("+OK"));
    CHECK(f.mem.calls("store_flags") == flags_before + 1);  // the \Seen of RETR 1, at QUIT
    CHECK(f.flags_of(1) == flag_seen);
    CHECK(f.flags_of(2) == 0xff);
    CHECK(f.flags_of(3) == 0);
    CHECK(c.store_calls >= 3);  // open at login, RETR's open, the UPDATE
}

TEST_CASE("pop3 session over the store maildrop: a store that fails at login", "[pop3d]") {
    Fixture f;
    Session c(f.mem);
    REQUIRE(c.cmd("USER " + bob).starts_with("+OK"));
    f.mem.fail_on("open_mailbox", StoreError::temporary);
    CHECK(c.cmd("PASS pw").starts_with("-ERR [SYS/TEMP]"));
    CHECK(f.mem.try_lock_maildrop(bob));  // nothing left locked
}
