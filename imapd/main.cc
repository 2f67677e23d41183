// imapd: a minimal IMAP front on the daemon scaffold. It greets, answers
// CAPABILITY, NOOP, LOGOUT and STARTTLS; every other command is "BAD not
// implemented yet" until IMAP proper lands.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "config/config.h"
#include "libproto/net/daemon.h"
#include "libproto/core/log.h"
#include "libproto/core/ascii.h"

namespace postern {
namespace {

class ImapStubSession final : public ConnectionHandler {
public:
    // `tls` is the daemon's holder, asked at STARTTLS time (a SIGHUP may have
    // swapped the context since this session was accepted).
    ImapStubSession(const Config& config, const TlsServer& tls) : config_(config), tls_(tls) {}

    void on_open(Connection& c) override {
        log_.info("connect from %s%s", c.peer().ip.c_str(), c.is_tls() ? " (TLS)" : "");
        c.write("* OK [CAPABILITY " + capabilities(c) + "] " + config_.hostname +
                " Postern IMAP ready\r\n");
    }

    void on_line(Connection& c, std::string_view line, LineEnd) override {
        size_t sp = line.find(' ');
        std::string_view tag = line.substr(0, sp);
        std::string_view cmd =
            sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
        cmd = cmd.substr(0, cmd.find(' '));
        if (tag.empty() || cmd.empty()) {
            c.write("* BAD missing tag or command\r\n");
            return;
        }
        std::string t(tag);
        if (iequals(cmd, "CAPABILITY")) {
            c.write("* CAPABILITY " + capabilities(c) + "\r\n" + t +
                    " OK CAPABILITY completed\r\n");
        } else if (iequals(cmd, "NOOP")) {
            c.write(t + " OK NOOP completed\r\n");
        } else if (iequals(cmd, "LOGOUT")) {
            c.write("* BYE Postern IMAP server logging out\r\n" + t + " OK LOGOUT completed\r\n");
            c.close();
        } else if (iequals(cmd, "STARTTLS")) {
            SslCtxPtr ctx = c.is_tls() ? nullptr : tls_.current();
            if (!ctx) {
                c.write(t + " BAD STARTTLS not available\r\n");
                return;
            }
            c.write(t + " OK Begin TLS negotiation now\r\n");
            c.start_tls(ctx.get());
        } else {
            c.write(t + " BAD command not implemented yet\r\n");
        }
    }

    void on_line_too_long(Connection& c) override { c.write("* BAD line too long\r\n"); }

    void on_tls_ready(Connection& c) override {
        log_.info("TLS started: %s %s", c.tls_version().c_str(), c.tls_cipher().c_str());
    }

    void on_timeout(Connection& c) override {
        c.write("* BYE Autologout; idle for too long\r\n");
        c.close(CloseReason::timeout);
    }

    void on_shutdown(Connection& c) override {
        c.write("* BYE Server shutting down\r\n");
        c.close();
    }

    void on_close(Connection&, CloseReason why) override {
        log_.info("disconnected: %s", close_reason_text(why));
    }

private:
    std::string capabilities(const Connection& c) const {
        return c.is_tls() || !tls_.available() ? "IMAP4rev1 LOGINDISABLED"
                                               : "IMAP4rev1 STARTTLS LOGINDISABLED";
    }

    const Config& config_;
    const TlsServer& tls_;
    SessionLog log_;
};

std::expected<void, std::string> setup(DaemonContext<Config>& ctx) {
    const ImapdConfig& ic = ctx.config.imapd;
    ctx.listeners.set_limits({ic.max_connections, ic.max_connections_per_ip,
                              "* BYE Too many connections, try again later\r\n"});
    ConnectionOptions opts;
    opts.idle_timeout_ms = uint64_t(ic.idle_timeout_seconds) * 1000;
    opts.lines.max_line = 64 * 1024;
    const TlsServer* tls = &ctx.tls;
    const Config* config = &ctx.config;
    auto factory = [config, tls](Connection&) {
        return std::make_unique<ImapStubSession>(*config, *tls);
    };
    if (auto r = ctx.listeners.listen("imap", ic.port, false, factory, opts); !r) return r;
    return ctx.listeners.listen("imaps", ic.tls_port, true, factory, opts);
}

}  // namespace
}  // namespace postern

int main(int argc, char** argv) {
    postern::DaemonSpec<postern::Config> spec;
    spec.service = "imapd";
    spec.setup = postern::setup;
    return postern::run_daemon(argc, argv, spec);
}
