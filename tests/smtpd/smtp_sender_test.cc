// The sender check of authenticated sessions (issue 10, "relay control"): the From: header
// watcher on split input, who owns which address, and whole sessions over SmtpPolicy on a
// real loop with a real queue: MAIL FROM refused with 553 5.7.1, a From: header refused
// with 550 5.7.1 after DATA and BDAT with nothing queued, aliases accepted, the switch
// that lifts it, and AUTH on the MX port only when configured.
#include "smtpd/from_header_watcher.h"
#include "smtpd/sender_owner.h"
#include "smtpd/smtp_policy.h"
#include "tests/support/memory_store.h"

#include <catch2/catch.hpp>
#include <unistd.h>
#include <uv.h>

using namespace postern;

namespace {

FromHeaderAddresses watch(std::string_view msg, size_t piece) {
    FromHeaderWatcher w;
    for (size_t i = 0; i < msg.size(); i += piece) w.feed(msg.substr(i, piece));
    return w.finish();
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& a : v) s += (s.empty() ? "" : ",") + a;
    return s;
}

}  // namespace

TEST_CASE("header_field_watcher: counts fields, keeps at most max_bytes, folds included") {
    HeaderFieldWatcher count{"Received", 0};
    HeaderFieldWatcher keep{"Subject", 16};
    std::string msg = "Received: a\r\nreceived : b\r\n\tc\r\nX-Received: d\r\nSubject: s";
    for (int i = 0; i < 1000; ++i) msg += "\r\n ";  // folds of blanks only: still bounded
    msg += "\r\n\r\nReceived: body\r\n";
    for (char c : msg) {
        count.feed(std::string_view(&c, 1));
        keep.feed(std::string_view(&c, 1));
    }
    CHECK(count.finish().empty());  // counted, nothing kept
    CHECK(count.count() == 2);
    REQUIRE(keep.finish().size() == 1);
    CHECK(keep.finish()[0].size() == 16);
    CHECK(keep.overflowed());
}

TEST_CASE("from_header_watcher: the From: addresses, whatever the chunking") {
    struct Case {
        const char* label;
        const char* msg;
        const char* want;  // comma-joined addresses
        bool unreadable;
    };
    auto tc = GENERATE(values<Case>({
        {"plain", "Subject: x\r\nFrom: alice@example.test\r\n\r\nbody\r\n", "alice@example.test",
         false},
        {"display name", "From: \"Alice A.\" <alice@example.test>\r\n\r\n", "alice@example.test",
         false},
        {"case of the name", "FROM: a@x.test\r\nfrom: b@y.test\r\n\r\n", "a@x.test,b@y.test",
         false},
        {"obs blank before colon", "From  : a@x.test\r\n\r\n", "a@x.test", false},
        {"folded list", "From: Alice <a@x.test>,\r\n\tBob <b@y.test>\r\nTo: c@z.test\r\n\r\n",
         "a@x.test,b@y.test", false},
        {"bare LF", "From: a@x.test\nSubject: s\n\nFrom: evil@x.test\n", "a@x.test", false},
        {"From: in the body is not a header", "Subject: s\r\n\r\nFrom: evil@x.test\r\n", "", false},
        {"a non-header line ends the header", "Subject: s\r\nhello world\r\nFrom: e@x.test\r\n", "",
         false},
        {"From- is another field", "From-Address: e@x.test\r\nX-From: f@x.test\r\n\r\n", "", false},
        {"no header at all", "", "", false},
        {"header without body", "From: a@x.test", "a@x.test", false},
        {"group of one", "From: team: a@x.test;\r\n\r\n", "a@x.test", false},
        {"empty From", "From: \r\n\r\n", "", true},
        {"no domain", "From: alice\r\n\r\n", "", true},
        {"comments", "From: a@x.test (Alice)\r\n\r\n", "a@x.test", false},
    }));
    for (size_t piece : {size_t(1), size_t(3), size_t(7), size_t(4096)}) {
        DYNAMIC_SECTION(tc.label << " in pieces of " << piece) {
            auto got = watch(tc.msg, piece);
            INFO("got " << joined(got.addresses) << " unreadable=" << got.unreadable);
            CHECK(joined(got.addresses) == tc.want);
            CHECK(got.unreadable == tc.unreadable);
        }
    }
}

TEST_CASE("from_header_watcher: memory stays bounded and a huge From: is unreadable") {
    FromHeaderWatcher w;
    w.feed("From: a@x.test,\r\n");
    for (int i = 0; i < 10000; ++i) w.feed("  b@y.test,\r\n");
    w.feed("\r\nbody\r\n");
    CHECK(w.header_done());
    auto got = w.finish();
    CHECK(got.unreadable);
    CHECK(got.addresses.size() < from_header_max_bytes / 8);
}

namespace {

struct Accts {
    std::filesystem::path dir;
    std::shared_ptr<Accounts> acc;
    Accts() {
        char tmpl[] = "/tmp/postern-sender-XXXXXX";
        dir = mkdtemp(tmpl);
        auto a = Accounts::open(dir / "data", 1ull << 30, Accounts::Open::create);
        REQUIRE(a.has_value());
        acc = std::move(*a);
        REQUIRE(acc->add_domain("example.test"));
        REQUIRE(acc->add_domain("catchall.test"));
        REQUIRE(acc->add_user("alice@example.test", "pw"));
        REQUIRE(acc->add_user("bob@example.test", "pw"));
        REQUIRE(acc->add_user("nobody@catchall.test", "pw"));
        REQUIRE(acc->add_alias("sales@example.test", {"alice@example.test"}));
        REQUIRE(acc->add_alias("team@example.test", {"alice@example.test", "bob@example.test"}));
        REQUIRE(acc->add_alias("outside@example.test", {"alice@far.example"}));
        REQUIRE(acc->add_alias("chain@example.test", {"sales@example.test"}));
    }
    ~Accts() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("sender_owner: the user's own address and the aliases that reach the user") {
    Accts t;
    struct Case {
        const char* label;
        const char* user;
        const char* address;
        SenderOwnership want;
    };
    auto tc = GENERATE(values<Case>({
        {"own", "alice@example.test", "alice@example.test", SenderOwnership::owned},
        {"own, other case", "alice@example.test", "Alice@EXAMPLE.test", SenderOwnership::owned},
        {"alias of the user", "alice@example.test", "sales@example.test", SenderOwnership::owned},
        {"alias through an alias", "alice@example.test", "chain@example.test",
         SenderOwnership::owned},
        {"list alias, first member", "alice@example.test", "team@example.test",
         SenderOwnership::owned},
        {"list alias, second member", "bob@example.test", "team@example.test",
         SenderOwnership::owned},
        {"someone else's alias", "bob@example.test", "sales@example.test",
         SenderOwnership::not_owned},
        {"another user", "alice@example.test", "bob@example.test", SenderOwnership::not_owned},
        {"alias pointing outside", "alice@example.test", "outside@example.test",
         SenderOwnership::not_owned},
        {"catch-all does not own the domain", "nobody@catchall.test", "any@catchall.test",
         SenderOwnership::not_owned},
        {"unknown local", "alice@example.test", "ghost@example.test", SenderOwnership::not_owned},
        {"remote", "alice@example.test", "alice@far.example", SenderOwnership::not_owned},
        {"garbage", "alice@example.test", "no-at-sign", SenderOwnership::not_owned},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto got = sender_owner(*t.acc, tc.user, tc.address);
        INFO("got " << int(got) << ", want " << int(tc.want));
        CHECK(got == tc.want);
    }
    CHECK(sender_is_user("alice@example.test", "ALICE@example.TEST"));
    CHECK_FALSE(sender_is_user("alice@example.test", "sales@example.test"));
}

TEST_CASE("listener_offers_auth: submission always, MX only when configured") {
    CHECK(listener_offers_auth(SmtpListenerKind::submission, false));
    CHECK(listener_offers_auth(SmtpListenerKind::smtps, false));
    CHECK_FALSE(listener_offers_auth(SmtpListenerKind::mx, false));
    CHECK(listener_offers_auth(SmtpListenerKind::mx, true));
}

namespace {

// The engine over an in-memory transport; input is pumped while reading is not paused.
struct Wire : SmtpTransport {
    LineReader reader{LineReaderLimits{smtp_max_auth_line, 64u << 20}};
    SmtpSession* session = nullptr;
    std::string out;
    bool paused = false, dispatching = false, closed = false;
    void write(std::string_view b) override { out += b; }
    void close() override { closed = true; }
    void start_tls() override {}
    void pause_reading() override { paused = true; }
    void resume_reading() override {
        paused = false;
        if (!dispatching) pump();
    }
    void read_raw(uint64_t n) override { reader.read_raw(n); }
    void set_max_line(size_t n) override {
        reader.set_limits(LineReaderLimits{n, std::max<size_t>(n + 65536, 64u << 20)});
    }
    void set_split_lines(bool on) override {
        auto l = reader.limits();
        l.split_long_lines = on;
        reader.set_limits(l);
    }
    void start_timer(uint64_t) override {}
    void pump() {
        dispatching = true;
        while (!paused && !closed) {
            auto ev = reader.next();
            if (!ev) break;
            switch (ev->kind) {
            case LineEvent::Kind::line: session->on_line(ev->data, ev->end); break;
            case LineEvent::Kind::too_long: session->on_line_too_long(); break;
            case LineEvent::Kind::raw: session->on_raw(ev->data, ev->raw_last); break;
            }
        }
        dispatching = false;
    }
};

struct Server {
    Accts accts;
    uv_loop_t loop{};
    std::optional<Queue> queue;
    std::unique_ptr<SmtpPolicy> policy;
    Wire wire;
    std::unique_ptr<SmtpSession> session;

    explicit Server(bool allow_mismatch = false) {
        uv_loop_init(&loop);
        auto q = Queue::open(accts.dir / "queue");
        REQUIRE(q.has_value());
        queue = *q;
        StoreOptions so;
        so.disk_reserve_bytes = 0;
        SmtpPolicyConfig pc{"mail.test", {}, accts.dir / "run", false, {}, 1 << 20};
        pc.allow_sender_mismatch = allow_mismatch;
        policy = std::make_unique<SmtpPolicy>(&loop, accts.acc, std::make_unique<MemoryStore>(so),
                                              std::move(*q), std::move(pc));
    }
    ~Server() {
        session.reset();
        policy.reset();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    // A session as `user` on a listener of `kind` (the login itself is the SASL tests' job).
    void open(SmtpListenerKind kind, std::string user, bool auth_enabled = true) {
        SmtpSessionConfig c;
        c.hostname = "mail.test";
        c.kind = kind;
        c.auth_enabled = auth_enabled;
        c.allow_plaintext_auth = true;
        c.max_message_size = 1 << 20;
        SmtpClientInfo ci;
        ci.ip = "203.0.113.5";
        ci.auth_user = std::move(user);
        session = std::make_unique<SmtpSession>(c, ci, wire, *policy);
        wire.session = session.get();
        session->on_open();
        take();
    }
    // Sends bytes, runs the loop until every pool job is answered; returns the replies.
    std::string say(std::string_view bytes) {
        REQUIRE(wire.reader.feed(bytes));
        wire.pump();
        uv_run(&loop, UV_RUN_DEFAULT);
        return take();
    }
    std::string take() { return std::exchange(wire.out, {}); }
    size_t queued() {
        auto ids = queue->ids();
        REQUIRE(ids.has_value());
        return ids->size();
    }
    // Entries in incoming/ with bytes in them (the empty ones are smtpd's stock made ahead).
    size_t partial() {
        size_t n = 0;
        for (const auto& e : std::filesystem::directory_iterator(accts.dir / "queue" / "incoming"))
            n += e.file_size() > 0 ? 1 : 0;
        return n;
    }
};

bool starts(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

}  // namespace

TEST_CASE("smtp_sender: MAIL FROM must be the user's or an alias of the user") {
    Server s;
    s.open(SmtpListenerKind::submission, "alice@example.test");
    s.say("EHLO client.test\r\n");
    struct Case {
        const char* label;
        const char* from;
        const char* want;
    };
    auto tc = GENERATE(values<Case>({
        {"own", "<alice@example.test>", "250 2.1.0"},
        {"own, other case", "<ALICE@Example.Test>", "250 2.1.0"},
        {"alias", "<sales@example.test>", "250 2.1.0"},
        {"list alias", "<team@example.test>", "250 2.1.0"},
        {"null sender (RFC 8098 MDNs)", "<>", "250 2.1.0"},
        {"another user", "<bob@example.test>", "553 5.7.1"},
        {"remote", "<alice@far.example>", "553 5.7.1"},
        {"catch-all domain", "<x@catchall.test>", "553 5.7.1"},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto got = s.say(std::string("MAIL FROM:") + tc.from + "\r\n");
        INFO("got " << got);
        CHECK(starts(got, tc.want));
        s.say("RSET\r\n");
    }
}

TEST_CASE("smtp_sender: the From: header is checked after DATA and BDAT; nothing queued") {
    Server s;
    s.open(SmtpListenerKind::submission, "alice@example.test");
    s.say("EHLO client.test\r\n");
    struct Case {
        const char* label;
        const char* mail_from;
        const char* header;
        const char* want;
    };
    auto tc = GENERATE(values<Case>({
        {"own", "alice@example.test", "From: Alice <alice@example.test>", "250 2.0.0"},
        {"alias in From, own envelope", "alice@example.test", "From: <sales@example.test>",
         "250 2.0.0"},
        {"envelope alias in From", "team@example.test", "From: team@example.test", "250 2.0.0"},
        {"no From at all", "alice@example.test", "Subject: none", "250 2.0.0"},
        {"null sender, own From", "", "From: alice@example.test", "250 2.0.0"},
        {"someone else", "alice@example.test", "From: Bob <bob@example.test>", "550 5.7.1"},
        {"one of two is someone else", "alice@example.test",
         "From: alice@example.test,\r\n bob@example.test", "550 5.7.1"},
        {"null sender, foreign From", "", "From: bob@example.test", "550 5.7.1"},
        {"unreadable", "alice@example.test", "From: Alice", "550 5.7.1"},
    }));
    for (bool bdat : {false, true}) {
        DYNAMIC_SECTION(tc.label << (bdat ? " (BDAT)" : " (DATA)")) {
            const size_t before = s.queued();
            CHECK(starts(s.say(std::string("MAIL FROM:<") + tc.mail_from + ">\r\n"), "250"));
            CHECK(starts(s.say("RCPT TO:<bob@example.test>\r\n"), "250"));
            const std::string msg =
                std::string(tc.header) + "\r\nSubject: t\r\n\r\nFrom: evil@far.example\r\nbody\r\n";
            std::string got;
            if (bdat) {
                got = s.say("BDAT " + std::to_string(msg.size()) + " LAST\r\n" + msg);
            } else {
                CHECK(starts(s.say("DATA\r\n"), "354"));
                got = s.say(msg + ".\r\n");
            }
            INFO("got " << got);
            CHECK(starts(got, tc.want));
            const bool accepted = starts(tc.want, "250");
            CHECK(s.queued() == before + (accepted ? 1 : 0));
            CHECK(s.partial() == 0);  // a refused message leaves no partial entry either
            CHECK(starts(s.say("NOOP\r\n"), "250"));  // the session goes on
        }
    }
}

TEST_CASE("smtp_sender: allow_sender_mismatch lets any sender through") {
    Server s(true);
    s.open(SmtpListenerKind::submission, "alice@example.test");
    s.say("EHLO client.test\r\n");
    CHECK(starts(s.say("MAIL FROM:<bob@example.test>\r\n"), "250"));
    CHECK(starts(s.say("RCPT TO:<bob@example.test>\r\n"), "250"));
    CHECK(starts(s.say("DATA\r\n"), "354"));
    CHECK(starts(s.say("From: bob@example.test\r\n\r\nhi\r\n.\r\n"), "250 2.0.0"));
    CHECK(s.queued() == 1);
}

TEST_CASE("smtp_sender: unauthenticated MX sessions are not checked, and may not relay") {
    Server s;
    s.open(SmtpListenerKind::mx, "");
    s.say("EHLO client.test\r\n");
    CHECK(starts(s.say("MAIL FROM:<bob@example.test>\r\n"), "250"));
    CHECK(starts(s.say("RCPT TO:<someone@far.example>\r\n"), "554 5.7.1"));
    CHECK(starts(s.say("RCPT TO:<alice@example.test>\r\n"), "250"));
    CHECK(starts(s.say("DATA\r\n"), "354"));
    CHECK(starts(s.say("From: bob@example.test\r\n\r\nhi\r\n.\r\n"), "250 2.0.0"));
}

TEST_CASE("smtp_sender: an authenticated session relays, and is checked, on any port") {
    Server s;
    s.open(SmtpListenerKind::mx, "alice@example.test");
    s.say("EHLO client.test\r\n");
    CHECK(starts(s.say("MAIL FROM:<bob@example.test>\r\n"), "553 5.7.1"));
    CHECK(starts(s.say("MAIL FROM:<alice@example.test>\r\n"), "250"));
    CHECK(starts(s.say("RCPT TO:<someone@far.example>\r\n"), "250"));
}

TEST_CASE("smtp_sender: AUTH is neither offered nor taken where the listener has none") {
    Server s;
    s.open(SmtpListenerKind::mx, "", false);
    auto ehlo = s.say("EHLO client.test\r\n");
    CHECK(ehlo.find("AUTH") == std::string::npos);
    CHECK(starts(s.say("AUTH PLAIN AGFsaWNlAHB3\r\n"), "503 5.5.1"));
    s.open(SmtpListenerKind::mx, "", true);
    ehlo = s.say("EHLO client.test\r\n");
    INFO(ehlo);
    CHECK(ehlo.find("250-AUTH ") != std::string::npos);
}
