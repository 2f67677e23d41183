// libFuzzer: server replies fed to the SMTP client engine. The first byte picks the
// session's settings (TLS mode, credentials, loopback); the rest is the server's side of
// the conversation, split at LF. The driver does what want() says: transactions of two
// recipients (8-bit, SMTPUTF8 or DSN by the same byte), a body of two chunks, TLS that
// always succeeds. Every transaction must end with one result per recipient, and the
// session must never ask for something it cannot be given.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libproto/smtp_client/smtp_client_session.h"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

    SmtpClientConfig cfg;
    cfg.helo_name = "client.test";
    cfg.tls = static_cast<SmtpClientTls>(mode % 3);
    if (mode & 4) {
        cfg.auth_user = "user";
        cfg.auth_password = "password";
    }
    cfg.peer_is_loopback = (mode & 8) != 0;
    cfg.limits = {.max_line = 512, .max_lines = 16};
    SmtpClientSession s(cfg);

    SmtpClientTransaction t;
    t.reverse_path = "a@example.test";
    t.recipients = {{"b@remote.example", uint8_t(mode & 16 ? 6 : 0), "rfc822;b@remote.example"},
                    {"c@remote.example", 0, ""}};
    t.size = 300;
    if (mode & 32) t.body = SmtpBodyType::eight_bit_mime;
    if (mode & 64) t.smtputf8 = true;
    if (mode & 128) t.ret = SmtpDsnRet::full;

    size_t begun = 0, ended = 0, round = 0, pos = 0;
    std::string wire;
    for (int steps = 0; steps < 10000; ++steps) {
        wire += s.take_output();
        if (wire.size() > (1u << 20)) wire.clear();
        auto w = s.want();
        if (w == SmtpClientSession::Want::results) {
            auto res = s.take_results();
            if (res.size() != t.recipients.size()) abort();
            ++ended;
            continue;
        }
        if (w == SmtpClientSession::Want::closed) break;
        if (w == SmtpClientSession::Want::transaction) {
            // begin, a reset() probe, begin again, then QUIT.
            if (round == 1) {
                s.reset();
            } else if (round < 3) {
                s.begin(t);
                ++begun;
            } else {
                s.quit();
            }
            ++round;
            continue;
        }
        if (w == SmtpClientSession::Want::tls) {
            s.on_tls_ready();
            continue;
        }
        if (w == SmtpClientSession::Want::body) {
            s.feed_body("Subject: x\r\n.\n", false);
            s.feed_body("body\r\n", true);
            continue;
        }
        // Want::reply: the next line of input, or the end of it as a timeout.
        if (pos >= in.size()) {
            s.on_timeout();
            if (s.want() == SmtpClientSession::Want::reply) abort();  // must have moved on
            continue;
        }
        size_t lf = in.find('\n', pos);
        if (lf == std::string_view::npos) lf = in.size();
        std::string_view line = in.substr(pos, lf - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = lf + 1;
        s.on_line(line);
    }
    // Every transaction begun ended with its results (a failure defers who was left).
    if (s.want() == SmtpClientSession::Want::closed && ended != begun) abort();
    return 0;
}
