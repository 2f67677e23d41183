// Connection's compression stage (IMAP COMPRESS, RFC 4978) over loopback, plain and under
// implicit TLS: the reply that turns it on is plaintext, everything after is deflated both
// ways, bytes pipelined after the command are inflated, a zip bomb is read without the
// input buffer overflowing, and garbage closes the connection with compress_error.
#include <catch2/catch.hpp>

#include <zlib.h>

#include "tests/proto/net_echo.h"
#include "tests/proto/net_test_util.h"

using nettest::Client;
using nettest::EchoServer;
using nettest::TempDir;

namespace {

// The client's two zlib streams (raw deflate, zlib's defaults, as Python's zlib gives).
class ZClient {
public:
    ZClient() {
        deflateInit2(&out_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        inflateInit2(&in_, -15);
    }
    ~ZClient() {
        deflateEnd(&out_);
        inflateEnd(&in_);
    }
    std::string compress(const std::string& s) {
        std::string out(deflateBound(&out_, s.size()) + 64, '\0');
        out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
        out_.avail_in = static_cast<uInt>(s.size());
        out_.next_out = reinterpret_cast<Bytef*>(out.data());
        out_.avail_out = static_cast<uInt>(out.size());
        deflate(&out_, Z_SYNC_FLUSH);
        out.resize(out.size() - out_.avail_out);
        return out;
    }
    // Reads and inflates until a whole line is there; "<EOF>" when the server closed.
    std::string line(Client& c) {
        for (;;) {
            size_t lf = plain_.find('\n');
            if (lf != std::string::npos) {
                std::string l = plain_.substr(0, lf);
                plain_.erase(0, lf + 1);
                if (!l.empty() && l.back() == '\r') l.pop_back();
                return l;
            }
            std::string wire = c.some();
            if (wire.empty()) return "<EOF>";
            char buf[65536];
            in_.next_in = reinterpret_cast<Bytef*>(wire.data());
            in_.avail_in = static_cast<uInt>(wire.size());
            while (in_.avail_in > 0) {
                in_.next_out = reinterpret_cast<Bytef*>(buf);
                in_.avail_out = sizeof buf;
                int r = inflate(&in_, Z_SYNC_FLUSH);
                if (r != Z_OK && r != Z_BUF_ERROR) return "<ZERR>";
                plain_.append(buf, sizeof buf - in_.avail_out);
            }
        }
    }

private:
    z_stream out_{};
    z_stream in_{};
    std::string plain_;
};

void compressed_session(EchoServer& srv, bool tls) {
    std::vector<std::string> got;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        if (tls && !c.start_tls()) return;
        got.push_back(c.line());  // hello
        ZClient z;
        // A line pipelined right behind COMPRESS is already compressed.
        c.send("COMPRESS\r\n" + z.compress("PING\r\n"));
        got.push_back(c.line());  // "ok", plaintext
        got.push_back(z.line(c));
        c.send(z.compress("BIG 100000\r\n"));
        got.push_back(std::to_string(z.line(c).size()));
        c.send(z.compress("QUIT\r\n"));
        got.push_back(z.line(c));
        got.push_back(z.line(c));
    }));
    CHECK(srv.stats.compress_started);
    REQUIRE(got.size() == 6);
    CHECK(got[0] == (tls ? "hello tls" : "hello"));
    CHECK(got[1] == "ok");
    CHECK(got[2] == "echo:PING:crlf");
    CHECK(got[3] == "100000");
    CHECK(got[4] == "bye");
    CHECK(got[5] == "<EOF>");
}

}  // namespace

TEST_CASE("net: COMPRESS deflates both directions after the plaintext reply") {
    EchoServer srv;
    REQUIRE(srv.start("127.0.0.1").empty());
    compressed_session(srv, false);
}

TEST_CASE("net: COMPRESS under TLS (deflate, then encrypt)") {
    TempDir d;
    REQUIRE(nettest::make_self_signed(d.path));
    EchoServer srv;
    REQUIRE(srv.tls.load(d.path / "cert.pem", d.path / "key.pem").has_value());
    REQUIRE(srv.start("127.0.0.1", true).empty());
    compressed_session(srv, true);
}

TEST_CASE("net: a compressed zip bomb is read chunk by chunk, the buffer limit holds") {
    EchoServer srv;
    postern::ConnectionOptions o;
    o.lines.max_line = 1000;
    o.lines.max_buffer = 64 * 1024;  // a 32 MB line inflated at once would overflow this
    REQUIRE(srv.start("127.0.0.1", false, o).empty());
    std::string too_long, echo;
    REQUIRE(srv.serve_while(
        [&] {
            Client c("127.0.0.1", srv.port());
            c.line();
            ZClient z;
            c.send("COMPRESS\r\n");
            c.line();
            std::string bomb = z.compress(std::string(32 << 20, 'a') + "\r\nPING\r\n");
            if (bomb.size() > 256 * 1024) return;  // not a bomb
            c.send(bomb);
            too_long = z.line(c);
            echo = z.line(c);
        },
        std::chrono::seconds(30)));
    CHECK(too_long == "too long");
    CHECK(echo == "echo:PING:crlf");
    CHECK(srv.stats.close_reason != static_cast<int>(postern::CloseReason::overflow));
}

TEST_CASE("net: garbage after COMPRESS closes the connection (compress_error)") {
    EchoServer srv;
    REQUIRE(srv.start("127.0.0.1").empty());
    std::string ok, after;
    REQUIRE(srv.serve_while([&] {
        Client c("127.0.0.1", srv.port());
        c.line();
        c.send("COMPRESS\r\n");
        ok = c.line();
        c.send("PING\r\nPING\r\n");  // not deflate
        after = c.some();
        if (!after.empty()) after = c.some() + after;  // only EOF may follow
    }));
    CHECK(ok == "ok");
    CHECK(after.empty());
    CHECK(srv.stats.closed == 1);
    CHECK(srv.stats.close_reason == static_cast<int>(postern::CloseReason::compress_error));
}
