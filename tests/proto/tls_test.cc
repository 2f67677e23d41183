#include <catch2/catch.hpp>

#include "libproto/net/tls.h"
#include "tests/proto/net_echo.h"
#include "tests/proto/net_test_util.h"

using nettest::Client;
using nettest::EchoServer;
using nettest::TempDir;

TEST_CASE("tls: context errors are one clear line naming the file") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    auto ok = postern::make_server_tls(d.path / "cert.pem", d.path / "key.pem");
    CHECK(ok.has_value());

    auto missing = postern::make_server_tls(d.path / "nope.pem", d.path / "key.pem");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error() ==
          (d.path / "nope.pem").string() + ": cannot read: No such file or directory");

    std::filesystem::path junk = d.path / "junk.pem";
    FILE* f = fopen(junk.c_str(), "w");
    fputs("not a key\n", f);
    fclose(f);
    auto bad = postern::make_server_tls(d.path / "cert.pem", junk);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().starts_with(junk.string() + ": not a usable PEM private key"));
    CHECK(bad.error().find('\n') == std::string::npos);

    TempDir other;
    REQUIRE(nettest::make_self_signed(other.path));
    auto mismatch = postern::make_server_tls(d.path / "cert.pem", other.path / "key.pem");
    REQUIRE_FALSE(mismatch.has_value());
    CHECK(mismatch.error().find("does not match") != std::string::npos);
}

TEST_CASE("tls: STARTTLS discards plaintext pipelined after the command") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    REQUIRE(srv.start("127.0.0.1").empty());
    std::vector<std::string> got;
    bool handshake = false;
    std::string version;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        got.push_back(c.line());
        // One segment: the injected command arrives with STARTTLS, in plaintext.
        c.send("STARTTLS\r\nINJECTED\r\n");
        got.push_back(c.line());
        handshake = c.start_tls();
        if (!handshake) return;
        version = c.tls_version();
        c.send("PING\r\nQUIT\r\n");
        got.push_back(c.line());
        got.push_back(c.line());
        got.push_back(c.line());
    }));
    CHECK(handshake);
    CHECK(version == "TLSv1.3");
    CHECK(got == std::vector<std::string>{"hello", "220 go", "echo:PING:crlf", "bye", "<EOF>"});
    CHECK(srv.stats.tls_ready);
    CHECK(srv.stats.tls_version == "TLSv1.3");
    CHECK(srv.stats.lines == 3);  // STARTTLS, PING, QUIT: never INJECTED
}

TEST_CASE("tls: implicit TLS greets after the handshake") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    REQUIRE(srv.start("127.0.0.1", true).empty());
    std::vector<std::string> got;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        if (!c.start_tls()) return;
        got.push_back(c.line());
        c.send("big\r\nBIG 300000\r\nQUIT\r\n");
        got.push_back(c.line());
        got.push_back(std::to_string(c.line().size()));
        got.push_back(c.line());
    }));
    CHECK(got == std::vector<std::string>{"hello tls", "echo:big:crlf", "300000", "bye"});
    CHECK(srv.stats.tls_version == "TLSv1.3");
}

TEST_CASE("tls: a plaintext client on a TLS port is closed") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    REQUIRE(srv.start("127.0.0.1", true).empty());
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        c.send("EHLO x\r\n");
        c.line();  // an alert, then EOF
    }));
    CHECK(srv.stats.opened == 0);
    CHECK(srv.tracker.count() == 0);
}

namespace {

// The client side (spoold's view): greet, STARTTLS, PING over TLS.
class ClientSession final : public postern::ConnectionHandler {
public:
    ClientSession(SSL_CTX* ctx, std::vector<std::string>& log) : ctx_(ctx), log_(log) {}
    void on_open(postern::Connection&) override {}
    void on_line(postern::Connection& c, std::string_view line, postern::LineEnd) override {
        log_.emplace_back(line);
        if (line == "hello") {
            c.write("STARTTLS\r\n");
        } else if (line == "220 go") {
            c.start_tls(ctx_, true, "localhost");
        } else if (line == "echo:PING:crlf") {
            c.write("QUIT\r\n");
        }
    }
    void on_tls_ready(postern::Connection& c) override {
        log_.push_back("tls " + c.tls_version());
        c.write("PING\r\n");
    }
    void on_close(postern::Connection&, postern::CloseReason r) override {
        log_.push_back(std::string("closed: ") + postern::close_reason_text(r));
    }

private:
    SSL_CTX* ctx_;
    std::vector<std::string>& log_;
};

}  // namespace

TEST_CASE("tls: outbound connect_tcp with client-side STARTTLS") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    REQUIRE(srv.start("127.0.0.1").empty());
    auto client_ctx = postern::make_client_tls();
    REQUIRE(client_ctx.has_value());
    std::vector<std::string> log;
    std::string error;
    postern::connect_tcp(
        srv.loop.get(), "127.0.0.1", srv.port(), {},
        [&](postern::Connection&) {
            return std::make_unique<ClientSession>(client_ctx->get(), log);
        },
        [&](const std::string& e) { error = e; });
    bool done =
        srv.loop.run_until([&] { return !log.empty() && log.back().starts_with("closed"); });
    CHECK(done);
    CHECK(error.empty());
    CHECK(log == std::vector<std::string>{"hello", "220 go", "tls TLSv1.3", "echo:PING:crlf", "bye",
                                          "closed: peer closed"});

    // A refused connection reports an error and creates no session.
    std::string refused;
    srv.listener->stop();
    postern::connect_tcp(srv.loop.get(), "127.0.0.1", srv.port(), {}, nullptr,
                         [&](const std::string& e) { refused = e; });
    srv.loop.run_until([&] { return !refused.empty(); });
    CHECK(refused == "connection refused");
}

TEST_CASE("tls: a client CA bundle is loaded, or refused with its name") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    auto ok = postern::make_client_tls(true, d.path / "cert.pem");
    REQUIRE(ok.has_value());
    CHECK(SSL_CTX_get_verify_mode(ok->get()) == SSL_VERIFY_PEER);

    auto missing = postern::make_client_tls(true, d.path / "nope.pem");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().starts_with((d.path / "nope.pem").string() +
                                      ": not a usable PEM CA bundle"));
    CHECK(missing.error().find('\n') == std::string::npos);

    std::filesystem::path junk = d.path / "junk.pem";
    FILE* f = fopen(junk.c_str(), "w");
    fputs("not a certificate\n", f);
    fclose(f);
    CHECK_FALSE(postern::make_client_tls(true, junk).has_value());
}
