#pragma once
// Test helpers for the network tests: a self-signed certificate made with the
// OpenSSL API, and a blocking loopback client (plain or TLS) meant to run on
// its own thread while the test's uv loop serves on the main thread.

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <utility>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace nettest {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/postern-net-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// Writes DIR/cert.pem and DIR/key.pem (P-256, CN=localhost, 1 day). Returns success.
inline bool make_self_signed(const std::filesystem::path& dir) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    if (!key || !x) return false;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    bool ok = X509_sign(x, key, EVP_sha256()) > 0;
    FILE* f = fopen((dir / "cert.pem").c_str(), "w");
    ok = ok && f && PEM_write_X509(f, x);
    if (f) fclose(f);
    f = fopen((dir / "key.pem").c_str(), "w");
    ok = ok && f && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    if (f) fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

// A blocking client with a receive timeout; every call fails rather than hangs.
class Client {
public:
    Client(const std::string& ip, uint16_t port, int timeout_ms = 5000) {
        sockaddr_storage ss{};
        socklen_t len;
        if (ip.find(':') != std::string::npos) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(port);
            inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            a->sin_port = htons(port);
            inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
            len = sizeof *a;
        }
        fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
    }
    ~Client() {
        if (ssl_) SSL_free(ssl_);
        if (ctx_) SSL_CTX_free(ctx_);
        if (fd_ >= 0) ::close(fd_);
    }
    bool connected() const { return connected_; }
    // True when the peer closed or reset the connection within `ms` (bytes
    // that arrive meanwhile are kept for line()).
    bool peer_closed_within(int ms) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        do {
            char tmp[4096];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
            if (n > 0) buf_.append(tmp, size_t(n));
            if (n < 0) ::usleep(5000);
        } while (std::chrono::steady_clock::now() < end);
        return false;
    }
    // Sends raw bytes below TLS (a trickled handshake); false once the peer is gone.
    bool send_raw(const std::string& s) {
        return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
    }

    bool start_tls() {
        ctx_ = SSL_CTX_new(TLS_client_method());
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, "localhost");
        return SSL_connect(ssl_) == 1;
    }
    std::string tls_version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

    bool send(const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            int n = ssl_ ? SSL_write(ssl_, s.data() + off, int(s.size() - off))
                         : int(::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL));
            if (n <= 0) return false;
            off += size_t(n);
        }
        return true;
    }
    // One line without CR LF; "<EOF>" at end of stream, "<ERR>" on error/timeout.
    std::string line() {
        for (;;) {
            size_t lf = buf_.find('\n');
            if (lf != std::string::npos) {
                std::string l = buf_.substr(0, lf);
                buf_.erase(0, lf + 1);
                if (!l.empty() && l.back() == '\r') l.pop_back();
                return l;
            }
            int r = fill();
            if (r == 0) return "<EOF>";
            if (r < 0) return "<ERR>";
        }
    }
    // What is buffered, else what one read brings ("" at EOF, error or timeout).
    std::string some() {
        if (buf_.empty() && fill() <= 0) return {};
        return std::exchange(buf_, {});
    }
    // Exactly n bytes (fewer at EOF/error).
    std::string bytes(size_t n) {
        while (buf_.size() < n && fill() > 0) {
        }
        std::string out = buf_.substr(0, n);
        buf_.erase(0, out.size());
        return out;
    }

private:
    int fill() {
        char tmp[16384];
        int n = ssl_ ? SSL_read(ssl_, tmp, sizeof tmp) : int(::recv(fd_, tmp, sizeof tmp, 0));
        if (n > 0) buf_.append(tmp, size_t(n));
        if (n < 0 && ssl_) return SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        return n;
    }

    int fd_ = -1;
    bool connected_ = false;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string buf_;
};

}  // namespace nettest
