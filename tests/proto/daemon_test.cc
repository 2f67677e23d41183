#include "libproto/net/daemon.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/proto/net_test_util.h"

using namespace std::chrono_literals;
using nettest::Client;
using nettest::TempDir;

namespace {

uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// One run of scaffold_test_daemon with --ready-fd and stderr to a file.
struct Daemon {
    pid_t pid = -1;
    int ready = -1;
    std::filesystem::path err;

    Daemon(const std::filesystem::path& config, const std::filesystem::path& errfile,
           const char* env = nullptr)
        : err(errfile) {
        int p[2];
        REQUIRE(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            dup2(p[1], 3);  // dup2 clears O_CLOEXEC on 3
            int e = open(errfile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            dup2(e, 2);
            if (env) putenv(const_cast<char*>(env));
            execl(SCAFFOLD_TEST_DAEMON, SCAFFOLD_TEST_DAEMON, "-c", config.c_str(), "--ready-fd",
                  "3", static_cast<char*>(nullptr));
            _exit(127);
        }
        ::close(p[1]);
        ready = p[0];
    }
    ~Daemon() {
        if (ready >= 0) ::close(ready);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
    // The line on the ready fd ("" on EOF/timeout).
    std::string ready_line(int timeout_ms = 10000) {
        std::string s;
        char c;
        while (s.find('\n') == std::string::npos) {
            pollfd pfd{ready, POLLIN, 0};
            if (poll(&pfd, 1, timeout_ms) <= 0 || read(ready, &c, 1) != 1) break;
            s += c;
        }
        if (!s.empty() && s.back() == '\n') s.pop_back();
        return s;
    }
    // Exit status, or -1 if it did not exit within the timeout.
    int wait_exit(std::chrono::milliseconds timeout) {
        auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            int st = 0;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            std::this_thread::sleep_for(20ms);
        }
        return -1;
    }
};

std::filesystem::path write_config(const TempDir& d, uint16_t port, const std::string& extra = "") {
    auto file = d.path / "postern.toml";
    // allow_root: the tests may run as root, and the test daemon has no user to drop to.
    std::ofstream(file)
        << "format = 1\n[server]\nhostname = \"mx.test\"\nlisten = [\"127.0.0.1\"]\n"
           "shutdown_grace_seconds = 1\nallow_root = true\n"
           "[paths]\ndata = \"data\"\nqueue = \"queue\"\nrun = \"run\"\nlog = \"log\"\n"
           "[tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n"
        << extra << "[smtpd]\nmx_port = " << port << "\n";
    return file;
}

}  // namespace

TEST_CASE("daemon: start-up, pid file, second instance, SIGHUP, SIGTERM") {
    TempDir d;
    uint16_t port = free_port();
    auto config = write_config(d, port);
    Daemon a(config, d.path / "a.err");
    REQUIRE(a.ready_line() == "READY");

    auto pid_text = slurp(d.path / "run" / "testd.pid");
    CHECK(pid_text == std::to_string(a.pid) + "\n");

    {
        Daemon b(config, d.path / "b.err");
        std::string line = b.ready_line();
        INFO("got: " << line);
        CHECK(line == "ERROR already running (pid " + std::to_string(a.pid) + ")");
        CHECK(b.wait_exit(5s) == 1);
    }

    Client c("127.0.0.1", port);
    REQUIRE(c.connected());
    CHECK(c.line() == "hello testd");
    c.send("hi\r\n");
    CHECK(c.line() == "echo:hi");

    kill(a.pid, SIGHUP);
    c.send("again\r\n");
    CHECK(c.line() == "echo:again");  // still serving after reload

    auto t0 = std::chrono::steady_clock::now();
    kill(a.pid, SIGTERM);
    CHECK(c.line() == "shutdown");
    CHECK(c.line() == "<EOF>");
    CHECK(a.wait_exit(5s) == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK_FALSE(std::filesystem::exists(d.path / "run" / "testd.pid"));
    CHECK(slurp(d.path / "a.err").find("reload mx.test") != std::string::npos);
}

TEST_CASE("daemon: a lingering session is ended by the grace period") {
    TempDir d;
    uint16_t port = free_port();
    Daemon a(write_config(d, port), d.path / "a.err", "TESTD_LINGER=1");
    REQUIRE(a.ready_line() == "READY");
    Client c("127.0.0.1", port);
    REQUIRE(c.line() == "hello testd");
    auto t0 = std::chrono::steady_clock::now();
    kill(a.pid, SIGTERM);
    CHECK(c.line() == "shutdown");
    CHECK(a.wait_exit(5s) == 0);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 900ms);  // shutdown_grace_seconds = 1
    CHECK(took < 3s);
    CHECK(c.line() == "<EOF>");
}

TEST_CASE("daemon: failures exit with the contract's codes") {
    TempDir d;
    SECTION("config error: FILE:LINE on stderr, exit 2") {
        auto file = d.path / "postern.toml";
        std::ofstream(file) << "[server]\nhostname = \n";
        Daemon a(file, d.path / "a.err");
        CHECK(a.wait_exit(5s) == 2);
        std::string err = slurp(d.path / "a.err");
        INFO("stderr: " << err);
        CHECK(err.find("postern.toml:2:") != std::string::npos);
        CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    }
    SECTION("port in use: ERROR on the ready fd, exit 1") {
        uint16_t port = free_port();
        Daemon a(write_config(d, port), d.path / "a.err");
        REQUIRE(a.ready_line() == "READY");
        TempDir d2;
        Daemon b(write_config(d2, port), d2.path / "b.err");
        std::string line = b.ready_line();
        INFO("got: " << line);
        CHECK(line.starts_with("ERROR cannot listen on 127.0.0.1:" + std::to_string(port)));
        CHECK(b.wait_exit(5s) == 1);
    }
    SECTION("missing TLS key: ERROR naming the file, exit 1") {
        Daemon a(write_config(d, free_port()), d.path / "a.err", "TESTD_TLS=1");
        std::string line = a.ready_line();
        INFO("got: " << line);
        CHECK(line.starts_with("ERROR "));
        CHECK(line.find("cert.pem: cannot read") != std::string::npos);
        CHECK(a.wait_exit(5s) == 1);
    }
}
