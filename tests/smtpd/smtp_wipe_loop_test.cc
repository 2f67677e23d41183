// smtpd's connection glue over a real Connection on loopback: after AUTH PLAIN (initial
// response), and after SASL responses a client sends on after a refused AUTH, no piece of
// the credential is left in the connection's input buffer (SmtpConnection::wipe_input ->
// LineReader::wipe_consumed).

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "libproto/core/base64.h"
#include "libproto/net/listener.h"
#include "libproto/net/loop.h"
#include "smtpd/smtp_connection.h"
#include "tests/proto/net_test_util.h"

using namespace postern;
using namespace std::chrono;

namespace {

class Handler : public SmtpHandler {
public:
    Handler() {
        cb_.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            return std::string(login);
        };
        cb_.verify_password = [](std::string_view, std::string_view pw) {
            return pw == "correct-horse-battery" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
    }
    void check_mail(const SmtpClientInfo&, const ParsedPath&, const MailParams&,
                    Done done) override {
        done(SmtpVerdict::ok);
    }
    void check_rcpt(const SmtpClientInfo&, const ParsedPath&, Done done) override {
        done(SmtpVerdict::ok);
    }
    void check_data(const SmtpClientInfo&, const SmtpEnvelope&, Done done) override {
        done(SmtpVerdict::ok);
    }
    std::unique_ptr<SaslServer> sasl(std::string_view mechanism) override {
        return make_sasl_server(mechanism, cb_);
    }

private:
    SaslCallbacks cb_;
};

std::string reply(nettest::Client& c) {
    for (int i = 0; i < 50; ++i) {
        std::string l = c.line();
        if (l.size() < 4 || l[3] != '-') return l;
    }
    return {};
}

bool holds_piece(std::string_view storage, std::string_view secret) {
    for (size_t i = 0; i + 8 <= secret.size(); ++i)
        if (storage.find(secret.substr(i, 8)) != std::string_view::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("smtpd: no piece of an AUTH credential stays in the connection's input buffer",
          "[smtpd][secret]") {
    EventLoop loop;
    ConnectionTracker tracker;
    Handler handler;
    Connection* server = nullptr;
    ListenerSpec spec;
    spec.address = "127.0.0.1";
    spec.port = 0;
    spec.name = "smtp";
    spec.factory = [&](Connection& c) {
        server = &c;
        SmtpSessionConfig cfg;
        cfg.hostname = "mx.test";
        cfg.allow_plaintext_auth = true;
        return std::make_unique<SmtpConnection>(c, handler, cfg, nullptr);
    };
    auto l = Listener::open(loop.get(), spec, tracker, nullptr);
    REQUIRE(l);
    uint16_t port = (*l)->port();

    const std::string plain = base64_encode(std::string("\0alice\0correct-horse-battery", 28));
    const std::string password = base64_encode("correct-horse-battery");
    // The client waits at each step until the loop thread has looked at the buffer.
    std::atomic<int> step{0}, looked{0};
    std::string auth1, stray;
    std::thread t([&] {
        nettest::Client c("127.0.0.1", port);
        reply(c);
        c.send("EHLO client.test\r\n");
        reply(c);
        c.send("AUTH PLAIN " + plain + "\r\n");
        auth1 = reply(c);
        step = 1;
        while (looked < 1) std::this_thread::sleep_for(milliseconds(1));
        c.send("RSET\r\nAUTH LOGIN\r\n");
        reply(c);
        c.send(base64_encode("alice") + "\r\n");
        reply(c);
        c.send(password + "\r\n");
        stray = reply(c);
        step = 2;
        while (looked < 2) std::this_thread::sleep_for(milliseconds(1));
    });
    REQUIRE(loop.run_until([&] { return step == 1; }, seconds(5)));
    REQUIRE(server);
    CHECK(auth1.starts_with("235"));
    CHECK_FALSE(holds_piece(server->input_buffer_for_tests(), plain));
    looked = 1;
    REQUIRE(loop.run_until([&] { return step == 2; }, seconds(5)));
    CHECK(stray.starts_with("5"));  // AUTH refused (503): the responses are bad commands
    CHECK_FALSE(holds_piece(server->input_buffer_for_tests(), password));
    looked = 2;
    t.join();
    loop.run_until([&] { return tracker.count() == 0; }, seconds(2));
}
