// A tiny daemon on the scaffold, run by daemon_test.cc. It listens on
// smtpd.mx_port, greets "hello testd", echoes lines, says "shutdown" when
// the daemon stops (and, with TESTD_LINGER=1, keeps the session open so the
// grace period has to end it). SIGHUP prints "reload <hostname>" to stderr.
#include <cstdio>
#include <cstdlib>

#include "config/config.h"
#include "libproto/net/daemon.h"

namespace {

class Session final : public postern::ConnectionHandler {
public:
    void on_open(postern::Connection& c) override { c.write("hello testd\r\n"); }
    void on_line(postern::Connection& c, std::string_view line, postern::LineEnd) override {
        c.write("echo:" + std::string(line) + "\r\n");
    }
    void on_shutdown(postern::Connection& c) override {
        c.write("shutdown\r\n");
        if (!std::getenv("TESTD_LINGER")) c.close();
    }
};

}  // namespace

int main(int argc, char** argv) {
    postern::DaemonSpec<postern::Config> spec;
    spec.service = "testd";
    spec.tls = std::getenv("TESTD_TLS") != nullptr;
    spec.setup =
        [](postern::DaemonContext<postern::Config>& ctx) -> std::expected<void, std::string> {
        ctx.listeners.set_limits({100, 10, "421 busy\r\n"});
        return ctx.listeners.listen(
            "test", ctx.config.smtpd.mx_port, false,
            [](postern::Connection&) { return std::make_unique<Session>(); });
    };
    spec.reload = [](const postern::Config& c) {
        std::fprintf(stderr, "reload %s\n", c.hostname.c_str());
    };
    return postern::run_daemon(argc, argv, spec);
}
