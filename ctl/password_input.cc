#include "ctl/password_input.h"

#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

namespace postern::ctl {
namespace {

// Reads up to a newline (or EOF) from fd 0, byte by byte so nothing after it is consumed.
std::string read_line_fd0(bool& got_any) {
    std::string s;
    s.reserve(256);  // no reallocation leaving copies of the secret behind
    got_any = false;
    char c;
    while (::read(0, &c, 1) == 1) {
        got_any = true;
        if (c == '\n') break;
        s.push_back(c);
    }
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

// Echo off for the lifetime of the object.
class NoEcho {
public:
    NoEcho() {
        if (::tcgetattr(0, &saved_) == 0) {
            termios t = saved_;
            t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            active_ = ::tcsetattr(0, TCSAFLUSH, &t) == 0;
        }
    }
    ~NoEcho() {
        if (active_) ::tcsetattr(0, TCSAFLUSH, &saved_);
    }
    NoEcho(const NoEcho&) = delete;
    NoEcho& operator=(const NoEcho&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

}  // namespace

void wipe(std::string& secret) {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

std::expected<std::string, std::string> read_password_stdin() {
    bool got_any = false;
    std::string pw = read_line_fd0(got_any);
    if (!got_any) return std::unexpected("no password on stdin");
    if (pw.empty()) return std::unexpected("empty password");
    return pw;
}

std::expected<std::string, std::string> prompt_new_password() {
    if (!::isatty(0))
        return std::unexpected("stdin is not a terminal: give the password with --password-stdin");
    std::string first, second;
    {
        NoEcho off;
        bool got = false;
        std::fputs("New password: ", stderr);
        first = read_line_fd0(got);
        std::fputs("\nRepeat password: ", stderr);
        second = read_line_fd0(got);
        std::fputs("\n", stderr);
    }
    bool same = first == second;
    wipe(second);
    if (!same) {
        wipe(first);
        return std::unexpected("the passwords do not match");
    }
    if (first.empty()) return std::unexpected("empty password");
    return first;
}

}  // namespace postern::ctl
