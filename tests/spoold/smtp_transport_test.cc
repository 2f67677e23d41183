// SmtpTransport against scripted SMTP servers on loopback: a small server on the test's own
// loop (libproto/net Listener), whose replies each test sets, and which records what the
// client sent. Covers pipelining, retries, 5xx, a 4xx to one of two recipients, a server
// that never answers, STARTTLS with a self-signed certificate in may and verify mode,
// connection reuse and the SIZE refusal.
#include "spoold/smtp_transport.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "libproto/core/ascii.h"
#include "libproto/net/listener.h"
#include "libproto/net/loop.h"
#include "tests/proto/net_test_util.h"

using namespace postern;

namespace {

// What the scripted server answers, and what it saw.
struct Script {
    std::vector<std::string> ehlo = {"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"};
    bool greet = true;             // false: accept and say nothing (a hang)
    bool starttls = false;         // offer STARTTLS (the server context is set)
    bool broken_tls = false;       // ... then answer the handshake with garbage
    bool auth = false;             // offer AUTH PLAIN LOGIN, accept relay/secret
    bool hold_until_data = false;  // answer MAIL/RCPT only once DATA came
    std::string mail_reply = "250 2.1.0 ok";
    std::map<std::string, std::string> rcpt_reply;  // address -> reply; default 250
    std::string data_reply = "250 2.0.0 queued";
    std::string rset_reply = "250 2.0.0 ok";
    int max_rcpts = 0;  // recipients per transaction; 0: no limit
    // Seen:
    int connections = 0;
    int bdat_commands = 0;
    std::vector<std::string> commands;  // every command line, in order
    std::vector<std::string> messages;  // unstuffed, CR LF
    std::vector<bool> message_tls;      // each message came over TLS
};

class ScriptedServer final : public ConnectionHandler {
public:
    ScriptedServer(Script& s, SSL_CTX* tls) : s_(s), tls_(tls) {}
    void on_open(Connection& c) override {
        ++s_.connections;
        if (s_.greet) c.write("220 fake.test ESMTP\r\n");
    }
    void on_tls_ready(Connection&) override { in_data_ = false; }
    void on_line(Connection& c, std::string_view line, LineEnd) override {
        if (in_data_) {
            if (line == ".") {
                in_data_ = false;
                s_.messages.push_back(msg_);
                s_.message_tls.push_back(c.is_tls());
                msg_.clear();
                if (!s_.data_reply.empty()) c.write(s_.data_reply + "\r\n");
                return;
            }
            if (line.starts_with(".")) line.remove_prefix(1);
            msg_.append(line);
            msg_ += "\r\n";
            return;
        }
        std::string l(line);
        s_.commands.push_back(l);
        std::string verb = ascii_uppered(l.substr(0, l.find(' ')));
        if (verb == "EHLO") {
            std::string r = "250-fake.test\r\n";
            std::vector<std::string> caps = s_.ehlo;
            if (s_.starttls && !c.is_tls()) caps.push_back("STARTTLS");
            if (s_.auth) caps.push_back("AUTH PLAIN LOGIN");
            for (size_t i = 0; i < caps.size(); ++i)
                r += (i + 1 < caps.size() ? "250-" : "250 ") + caps[i] + "\r\n";
            if (caps.empty()) r = "250 fake.test\r\n";
            c.write(r);
        } else if (verb == "STARTTLS") {
            c.write("220 2.0.0 go ahead\r\n");
            if (s_.broken_tls)
                c.write("this is not a TLS record\r\n");
            else
                c.start_tls(tls_);
        } else if (verb == "AUTH") {
            // base64("\0relay\0secret")
            c.write(l == "AUTH PLAIN AHJlbGF5AHNlY3JldA==" ? "235 2.7.0 ok\r\n"
                                                           : "535 5.7.8 no\r\n");
        } else if (verb == "MAIL") {
            mail_ok_ = s_.mail_reply.starts_with("2");
            rcpts_ = 0;
            answer(c, s_.mail_reply);
        } else if (verb == "RCPT") {
            size_t a = l.find('<'), b = l.find('>');
            std::string addr = a != std::string::npos && b > a ? l.substr(a + 1, b - a - 1) : "";
            auto it = s_.rcpt_reply.find(addr);
            std::string r = it == s_.rcpt_reply.end() ? "250 2.1.5 ok" : it->second;
            if (!mail_ok_) r = "503 5.5.1 MAIL first";
            if (s_.max_rcpts && rcpts_ >= s_.max_rcpts) r = "452 4.5.3 too many recipients";
            if (r.starts_with("2")) ++rcpts_;
            answer(c, r);
        } else if (verb == "DATA") {
            c.write(held_);
            held_.clear();
            if (rcpts_ == 0) {
                c.write("554 5.5.1 no valid recipients\r\n");
                return;
            }
            in_data_ = true;
            mail_ok_ = false;
            c.write("354 go ahead\r\n");
        } else if (verb == "BDAT") {
            size_t sp = l.find(' ');
            uint64_t n = sp == std::string::npos ? 0 : std::stoull(l.substr(sp + 1));
            bdat_last_ = l.ends_with(" LAST");
            ++s_.bdat_commands;
            if (n == 0)
                end_chunk(c);
            else
                c.read_raw(n);
        } else if (verb == "RSET") {
            mail_ok_ = false;
            rcpts_ = 0;
            c.write(s_.rset_reply + "\r\n");
            if (s_.rset_reply.starts_with("421")) c.close();
        } else if (verb == "QUIT") {
            c.write("221 2.0.0 bye\r\n");
            c.close();
        } else {
            c.write("502 5.5.2 what\r\n");
        }
    }

    void on_raw(Connection& c, std::string_view bytes, bool last) override {
        msg_.append(bytes);
        if (last) end_chunk(c);
    }

private:
    void end_chunk(Connection& c) {
        if (!bdat_last_) {
            c.write("250 2.0.0 chunk ok\r\n");
            return;
        }
        s_.messages.push_back(msg_);
        s_.message_tls.push_back(c.is_tls());
        msg_.clear();
        c.write(s_.data_reply + "\r\n");
    }
    void answer(Connection& c, const std::string& r) {
        if (s_.hold_until_data)
            held_ += r + "\r\n";
        else
            c.write(r + "\r\n");
    }
    Script& s_;
    SSL_CTX* tls_;
    bool in_data_ = false;
    bool bdat_last_ = false;
    bool mail_ok_ = false;
    int rcpts_ = 0;
    std::string msg_;
    std::string held_;
};

class FixedPlanner final : public NextHopPlanner {
public:
    HopPlan plan_;
    int calls = 0;
    PlanFor last_for;
    using NextHopPlanner::plan;
    void plan(const std::string&, PlanFor what, std::function<void(HopPlan)> done) override {
        ++calls;
        last_for = what;
        done(plan_);
    }
};

struct Harness {
    EventLoop loop;
    nettest::TempDir dir;
    std::optional<Queue> queue;
    Script script;
    ConnectionTracker tracker;
    TlsServer tls;
    std::unique_ptr<Listener> listener;
    FixedPlanner planner;
    SmtpTransportOptions opts;

    Harness() {
        auto q = Queue::open(dir.path / "queue");
        REQUIRE(q);
        queue = *q;
        REQUIRE(nettest::make_self_signed(dir.path));
        REQUIRE(tls.load(dir.path / "cert.pem", dir.path / "key.pem"));
        ListenerSpec spec;
        spec.address = "127.0.0.1";
        spec.port = 0;
        spec.name = "fake-remote";
        spec.factory = [this](Connection&) -> std::unique_ptr<ConnectionHandler> {
            return std::make_unique<ScriptedServer>(script, tls_ctx_.get());
        };
        tls_ctx_ = tls.current();
        auto l = Listener::open(loop.get(), spec, tracker);
        REQUIRE(l);
        listener = std::move(*l);
        NextHop h;
        h.host = "localhost";
        h.addresses = {"127.0.0.1"};
        h.port = listener->port();
        h.tls = TlsPolicy::none;
        planner.plan_.hops = {h};
        opts.helo_name = "client.test";
        opts.idle_ms = 2000;
    }

    // A queued message with one recipient per address (each its own single target).
    RemoteBatch enqueue(const std::vector<std::string>& rcpts, const std::string& body) {
        auto w = queue->create();
        REQUIRE(w);
        REQUIRE(w->append(body));
        Envelope e;
        e.reverse_path = "alice@example.test";
        for (const auto& r : rcpts) {
            Recipient x;
            x.address = r;
            e.recipients.push_back(x);
        }
        auto id = w->commit(e);
        REQUIRE(id);
        auto env = std::make_shared<Envelope>(e);
        env->id = *id;
        env->size = body.size();
        RemoteBatch b;
        b.id = *id;
        b.destination = "remote.example";
        for (uint32_t i = 0; i < rcpts.size(); ++i) {
            Target tg;
            tg.address = rcpts[i];
            tg.remote = true;
            env->recipients[i].targets.push_back(tg);
            b.targets.push_back({i, 0});
        }
        b.envelope = env;
        return b;
    }

    std::vector<TargetResult> run(SmtpTransport& t, const RemoteBatch& b,
                                  std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        std::optional<std::vector<TargetResult>> got;
        t.deliver(b, [&](std::vector<TargetResult> r) { got = std::move(r); });
        bool done = loop.run_until([&] { return got.has_value(); }, limit);
        REQUIRE(done);
        REQUIRE(got->size() == b.targets.size());
        return *got;
    }

    SslCtxPtr tls_ctx_;
};

const std::string kBody = "Subject: hello\r\n\r\n.a line with a dot\r\nbye\r\n";

}  // namespace

TEST_CASE("smtp transport: pipelined delivery of two recipients", "[smtp_transport]") {
    Harness h;
    h.script.hold_until_data = true;  // answers only after DATA: a client that waits hangs
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto b = h.enqueue({"bob@remote.example", "carol@remote.example"}, kBody);
    auto r = h.run(t, b);
    CHECK(r[0].state == TargetState::delivered);
    CHECK(r[0].reply == "250 2.0.0 queued");
    CHECK(r[1].state == TargetState::delivered);
    CHECK_FALSE(r[0].relayed);  // the server does DSN
    REQUIRE(h.script.messages.size() == 1);
    CHECK(h.script.messages[0] == kBody);  // dots stuffed and unstuffed
    std::vector<std::string> want = {"EHLO client.test", "MAIL FROM:<alice@example.test>",
                                     "RCPT TO:<bob@remote.example>",
                                     "RCPT TO:<carol@remote.example>", "DATA"};
    CHECK(h.script.commands == want);
    CHECK(h.planner.calls == 1);
}

TEST_CASE(
    "smtp transport: \"TLS-Required: No\" asks the planner to waive the recipient's "
    "policies",
    "[smtp_transport]") {
    Harness h;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto b = h.enqueue({"bob@remote.example"}, kBody);
    (void)h.run(t, b);
    CHECK(h.planner.last_for.recipient_tls_policies);
    auto waived = h.enqueue({"bob@remote.example"}, kBody);
    auto env = std::make_shared<Envelope>(*waived.envelope);
    env->tls_optional = true;
    waived.envelope = env;
    CHECK(h.run(t, waived)[0].state == TargetState::delivered);
    CHECK_FALSE(h.planner.last_for.recipient_tls_policies);
}

TEST_CASE("smtp transport: delivered to a server without DSN is marked relayed",
          "[smtp_transport]") {
    Harness h;
    h.script.ehlo = {"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"};
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::delivered);
    CHECK(r[0].relayed);
}

TEST_CASE("smtp transport: 4xx defers, the retry delivers once", "[smtp_transport]") {
    Harness h;
    h.script.mail_reply = "451 4.7.1 greylisted, come back later";
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto b = h.enqueue({"bob@remote.example"}, kBody);
    auto r = h.run(t, b);
    CHECK(r[0].state == TargetState::deferred);
    CHECK(r[0].reply == "451 4.7.1 greylisted, come back later");
    CHECK(h.script.messages.empty());
    h.script.mail_reply = "250 2.1.0 ok";
    r = h.run(t, b);
    CHECK(r[0].state == TargetState::delivered);
    CHECK(h.script.messages.size() == 1);
}

TEST_CASE("smtp transport: 5xx fails the target with the remote reply", "[smtp_transport]") {
    Harness h;
    h.script.rcpt_reply["bob@remote.example"] = "550 5.1.1 <bob@remote.example>: no such user";
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::failed);
    CHECK(r[0].reply == "550 5.1.1 <bob@remote.example>: no such user");
    CHECK(r[0].remote_mta == "localhost");  // the DSN\'s Remote-MTA
    CHECK(h.script.messages.empty());
}

TEST_CASE("smtp transport: a 4xx to one of two recipients defers only that one",
          "[smtp_transport]") {
    Harness h;
    h.script.rcpt_reply["bob@remote.example"] = "450 4.2.0 mailbox busy";
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example", "carol@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::deferred);
    CHECK(r[0].reply == "450 4.2.0 mailbox busy");
    CHECK(r[1].state == TargetState::delivered);
    CHECK(h.script.messages.size() == 1);
}

TEST_CASE("smtp transport: a server that never greets times out and defers", "[smtp_transport]") {
    Harness h;
    h.script.greet = false;
    h.opts.timeouts.greeting = 300;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto start = std::chrono::steady_clock::now();
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody), std::chrono::seconds(5));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(r[0].state == TargetState::deferred);
    CHECK(r[0].reply == "421 4.4.2 timed out waiting for the greeting");
    CHECK(r[0].remote_mta.empty());  // our own text
    CHECK(took >= std::chrono::milliseconds(250));
    CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("smtp transport: a dead address, then the next one", "[smtp_transport]") {
    Harness h;
    // A port nobody listens on: bind one, note it, close it.
    uint16_t dead_port;
    {
        ListenerSpec spec;
        spec.address = "127.0.0.1";
        spec.factory = [](Connection&) { return nullptr; };
        auto l = Listener::open(h.loop.get(), spec, h.tracker);
        REQUIRE(l);
        dead_port = (*l)->port();
    }
    NextHop dead = h.planner.plan_.hops[0];
    dead.host = "dead.test";
    dead.port = dead_port;
    h.planner.plan_.hops.insert(h.planner.plan_.hops.begin(), dead);
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::delivered);
    CHECK(h.script.messages.size() == 1);
    CHECK(t.connections_opened() == 2);
}

TEST_CASE("smtp transport: every hop deferring ends with the last reply", "[smtp_transport]") {
    Harness h;
    h.script.mail_reply = "452 4.3.1 out of space";
    NextHop second = h.planner.plan_.hops[0];
    second.host = "127.0.0.1";  // a different host key: a connection of its own
    h.planner.plan_.fallback = {second};
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::deferred);
    CHECK(r[0].reply == "452 4.3.1 out of space");
    CHECK(h.script.connections == 2);  // the hop, then the fallback
}

TEST_CASE("smtp transport: a plan failure answers every target", "[smtp_transport]") {
    Harness h;
    h.planner.plan_.hops.clear();
    h.planner.plan_.failure = TargetResult{TargetState::failed, "556 5.1.10 null MX"};
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example", "carol@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::failed);
    CHECK(r[1].reply == "556 5.1.10 null MX");
    CHECK(h.script.connections == 0);
}

TEST_CASE("smtp transport: STARTTLS with a self-signed peer", "[smtp_transport]") {
    Harness h;
    h.script.starttls = true;
    SECTION("may: delivers over TLS") {
        h.planner.plan_.hops[0].tls = TlsPolicy::may;
        SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
        auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
        CHECK(r[0].state == TargetState::delivered);
        REQUIRE(h.script.messages.size() == 1);
        CHECK(h.script.message_tls[0]);
        CHECK(std::count(h.script.commands.begin(), h.script.commands.end(), "EHLO client.test") ==
              2);
    }
    SECTION("verify: the certificate is not trusted, the target defers") {
        h.planner.plan_.hops[0].tls = TlsPolicy::verify;
        SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
        auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
        CHECK(r[0].state == TargetState::deferred);
        CHECK(r[0].reply.starts_with("421 4.7.0 TLS handshake failed"));
        CHECK(h.script.messages.empty());
        // No plaintext retry in verify mode.
        CHECK(h.script.connections == 1);
    }
    SECTION("encrypt: STARTTLS not offered defers") {
        h.script.starttls = false;
        h.planner.plan_.hops[0].tls = TlsPolicy::encrypt;
        SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
        auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
        CHECK(r[0].state == TargetState::deferred);
        CHECK(r[0].reply.starts_with("451 4.7.10"));
        CHECK(h.script.messages.empty());
    }
}

TEST_CASE("smtp transport: the connection is reused for the next batch", "[smtp_transport]") {
    Harness h;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r1 = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    CHECK(t.idle_connections() == 1);
    auto r2 = h.run(t, h.enqueue({"carol@remote.example"}, "Subject: two\r\n\r\nx\r\n"));
    CHECK(r1[0].state == TargetState::delivered);
    CHECK(r2[0].state == TargetState::delivered);
    CHECK(h.script.connections == 1);
    CHECK(t.connections_opened() == 1);
    CHECK(h.script.messages.size() == 2);
    CHECK(std::count(h.script.commands.begin(), h.script.commands.end(), "RSET") == 1);
    // The idle connection is closed with QUIT after idle_ms.
    h.loop.run_until([&] { return t.idle_connections() == 0; }, std::chrono::seconds(5));
    CHECK(t.idle_connections() == 0);
    CHECK(h.script.commands.back() == "QUIT");
}

TEST_CASE("smtp transport: a message over the peer's SIZE is refused unsent", "[smtp_transport]") {
    Harness h;
    h.script.ehlo = {"PIPELINING", "SIZE 20"};
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example", "carol@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::failed);
    CHECK(r[0].reply.starts_with("552 5.3.4"));
    CHECK(r[0].remote_mta.empty());
    CHECK(r[1].state == TargetState::failed);
    for (const auto& c : h.script.commands) CHECK(!c.starts_with("MAIL"));
}

TEST_CASE("smtp transport: a large message streams with a prefix", "[smtp_transport]") {
    Harness h;
    h.opts.chunk_bytes = 4096;
    h.opts.prefix = [](const Envelope&, MessageReader& m) {
        return "X-Prefix: " + std::to_string(m.size()) + "\r\n";
    };
    std::string big = "Subject: big\r\n\r\n";
    for (int i = 0; i < 20000; ++i)
        big += (i % 7 == 0 ? ".line " : "line ") + std::to_string(i) + "\r\n";
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, big));
    CHECK(r[0].state == TargetState::delivered);
    REQUIRE(h.script.messages.size() == 1);
    CHECK(h.script.messages[0] == "X-Prefix: " + std::to_string(big.size()) + "\r\n" + big);
}

TEST_CASE("smtp transport: the per-host cap makes a batch wait for the connection",
          "[smtp_transport]") {
    Harness h;
    h.opts.max_per_host = 1;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto b1 = h.enqueue({"bob@remote.example"}, kBody);
    auto b2 = h.enqueue({"carol@remote.example"}, kBody);
    std::optional<std::vector<TargetResult>> r1, r2;
    t.deliver(b1, [&](std::vector<TargetResult> r) { r1 = std::move(r); });
    t.deliver(b2, [&](std::vector<TargetResult> r) { r2 = std::move(r); });
    REQUIRE(h.loop.run_until([&] { return r1 && r2; }));
    CHECK((*r1)[0].state == TargetState::delivered);
    CHECK((*r2)[0].state == TargetState::delivered);
    CHECK(h.script.connections == 1);  // the second batch took the first one's connection
    CHECK(h.script.messages.size() == 2);
    CHECK(t.batches_in_flight() == 0);
}

TEST_CASE("smtp transport: a hang after DATA times out and defers", "[smtp_transport]") {
    Harness h;
    h.script.data_reply = "";  // takes the message, never answers the final dot
    h.opts.timeouts.data_term = 300;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody), std::chrono::seconds(5));
    CHECK(r[0].state == TargetState::deferred);
    CHECK(r[0].reply == "421 4.4.2 timed out waiting for end of data");
}

TEST_CASE("smtp transport: may retries in plaintext after a failed handshake", "[smtp_transport]") {
    Harness h;
    h.script.starttls = true;
    h.script.broken_tls = true;
    h.planner.plan_.hops[0].tls = TlsPolicy::may;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::delivered);
    CHECK(h.script.connections == 2);
    REQUIRE(h.script.messages.size() == 1);
    CHECK(!h.script.message_tls[0]);
}

TEST_CASE("smtp transport: AUTH PLAIN to a loopback smarthost", "[smtp_transport]") {
    Harness h;
    h.script.auth = true;
    h.planner.plan_.hops[0].auth = SmtpCredentials{"relay", "secret"};
    h.planner.plan_.hops[0].smarthost = true;
    SECTION("accepted") {
        SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
        auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
        CHECK(r[0].state == TargetState::delivered);
        CHECK(std::count(h.script.commands.begin(), h.script.commands.end(),
                         "AUTH PLAIN AHJlbGF5AHNlY3JldA==") == 1);
    }
    SECTION("refused: deferred, not bounced") {
        h.planner.plan_.hops[0].auth->password = "wrong";
        SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
        auto r = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
        CHECK(r[0].state == TargetState::deferred);
        CHECK(r[0].reply == "451 4.7.0 authentication failed: 535 5.7.8 no");
        CHECK(h.script.messages.empty());
    }
}

TEST_CASE("smtp transport: CHUNKING sends BDAT chunks, with and without PIPELINING",
          "[smtp_transport]") {
    Harness h;
    auto pipelining = GENERATE(false, true);
    h.script.ehlo = {"CHUNKING", "8BITMIME"};
    if (pipelining) h.script.ehlo.push_back("PIPELINING");
    h.opts.chunk_bytes = 4096;
    std::string big = "Subject: chunks\n\n";  // bare LF: sent as CR LF
    for (int i = 0; i < 3000; ++i) big += ".line " + std::to_string(i) + "\n";
    std::string want;
    for (char c : big) want += c == '\n' ? std::string("\r\n") : std::string(1, c);
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"bob@remote.example"}, big));
    CHECK(r[0].state == TargetState::delivered);
    REQUIRE(h.script.messages.size() == 1);
    CHECK(h.script.messages[0] == want);  // BDAT carries the dots as they are
    CHECK(h.script.bdat_commands > 5);
}

TEST_CASE("smtp transport: a cached connection that fails its RSET is replaced",
          "[smtp_transport]") {
    Harness h;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r1 = h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    REQUIRE(t.idle_connections() == 1);
    h.script.rset_reply = "421 4.4.2 idle too long";
    auto r2 = h.run(t, h.enqueue({"carol@remote.example"}, kBody));
    CHECK(r1[0].state == TargetState::delivered);
    CHECK(r2[0].state == TargetState::delivered);
    CHECK(h.script.connections == 2);
    CHECK(h.script.messages.size() == 2);
}

TEST_CASE("smtp transport: a cached connection the server closed is dropped", "[smtp_transport]") {
    Harness h;
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    h.run(t, h.enqueue({"bob@remote.example"}, kBody));
    REQUIRE(t.idle_connections() == 1);
    h.tracker.abort_all();  // the server hangs up on its idle client
    REQUIRE(h.loop.run_until([&] { return t.idle_connections() == 0; }));
    auto r = h.run(t, h.enqueue({"carol@remote.example"}, kBody));
    CHECK(r[0].state == TargetState::delivered);
    CHECK(h.script.connections == 2);
}

TEST_CASE("smtp transport: too many recipients go in further transactions at once",
          "[smtp_transport]") {
    Harness h;
    h.script.max_rcpts = 2;
    h.script.rcpt_reply["dave@remote.example"] = "450 4.2.0 busy";
    SmtpTransport t(h.loop.get(), *h.queue, h.planner, h.opts);
    auto r = h.run(t, h.enqueue({"a@remote.example", "b@remote.example", "c@remote.example",
                                 "dave@remote.example", "e@remote.example"},
                                kBody));
    CHECK(r[0].state == TargetState::delivered);
    CHECK(r[1].state == TargetState::delivered);
    CHECK(r[2].state == TargetState::delivered);
    CHECK(r[3].state == TargetState::deferred);
    CHECK(r[3].reply == "450 4.2.0 busy");
    CHECK(r[4].state == TargetState::delivered);
    CHECK(h.script.connections == 1);
    CHECK(h.script.messages.size() == 2);  // a+b, then c+e (dave 450 in between)
}
