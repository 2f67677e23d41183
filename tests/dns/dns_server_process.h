#pragma once
// Runs tests/support/dns_server.py as a child on a free loopback port, with a
// zone given as JSON, and reads its query counts. Only 127.0.0.1 is ever
// queried: the resolver under test gets this server as its only server.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace dns_test {

class DnsServerProcess {
public:
    // Empty error(): running. Otherwise why it is not.
    explicit DnsServerProcess(const std::string& zone_json) {
        char tmpl[] = "/tmp/postern-dns-XXXXXX";
        if (!mkdtemp(tmpl)) {
            error_ = "mkdtemp failed";
            return;
        }
        dir_ = tmpl;
        std::ofstream(dir_ + "/zone.json") << zone_json;
        std::string py = PYTHON3, script = DNS_SERVER_PY;
        std::string zone = dir_ + "/zone.json", port = dir_ + "/port", counts = dir_ + "/counts";
        std::string a[] = {py,   script,          "--zone", zone, "--port-file",
                           port, "--counts-file", counts};
        char* argv[] = {a[0].data(), a[1].data(), a[2].data(), a[3].data(), a[4].data(),
                        a[5].data(), a[6].data(), a[7].data(), nullptr};
        if (posix_spawn(&pid_, py.c_str(), nullptr, nullptr, argv, environ) != 0) {
            pid_ = -1;
            error_ = "cannot run " + py;
            return;
        }
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < until) {
            std::ifstream f(port);
            if (f >> port_) return;
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                error_ = "dns_server.py exited early";
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        error_ = "dns_server.py wrote no port within 10 s";
    }
    ~DnsServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
        if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
    }
    const std::string& error() const { return error_; }
    std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

    // Queries seen: all, over TCP, or for one "name/TYPE".
    int total() const { return field("\"total\": "); }
    int tcp() const { return field("\"tcp\": "); }
    int asked(const std::string& name_type) const { return field("\"" + name_type + "\": "); }

private:
    int field(const std::string& key) const {
        std::ifstream f(dir_ + "/counts");
        std::stringstream ss;
        ss << f.rdbuf();
        std::string s = ss.str();
        auto at = s.find(key);
        return at == std::string::npos ? 0 : std::atoi(s.c_str() + at + key.size());
    }
    std::string dir_, error_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// True when python3 can run; under CI=true its absence is a failure, never a skip.
inline bool have_python() { return access(PYTHON3, X_OK) == 0; }
inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

}  // namespace dns_test
