#pragma once
// ImapSession over the in-memory MailStore and an in-memory transport. Blocking work is
// queued and run by settle() (so every command goes through its asynchronous path), posts
// from folder watches too; the failed-login timer fires at settle().

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "imapd/imap_session.h"
#include "tests/support/memory_store.h"

namespace imaptest {

using namespace postern;

inline const std::string alice = "alice@example.org";
inline const std::string bob = "bob@example.org";

class TestBackend : public ImapBackend {
public:
    // `o`: the store's options (a quota for APPEND tests).
    explicit TestBackend(StoreOptions o = {}) : store_(std::move(o)) {
        store_.create_user(alice);
        store_.create_user(bob);
        cb_.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            std::string l(login);
            if (l == "alice" || l == alice) return alice;
            if (l == "bob" || l == bob) return bob;
            return std::unexpected(SaslLookupError::not_found);
        };
        cb_.verify_password = [](std::string_view user, std::string_view pw) {
            return (user == alice || user == bob) && pw == "pw" ? PasswordCheck::ok
                                                                : PasswordCheck::mismatch;
        };
    }
    MailStore& store() override { return store_; }
    MemoryStore& memory() { return store_; }
    const SaslCallbacks& sasl_callbacks() override { return cb_; }
    SaslOptions sasl_options() override { return {}; }
    void run_blocking(std::function<void()> work, std::function<void()> done) override {
        jobs_.emplace_back(std::move(work), std::move(done));
    }
    void post(std::function<void()> fn) override {
        std::lock_guard lock(mu_);
        posts_.push_back(std::move(fn));
    }
    // Runs queued jobs and posts until there are none. True when something ran.
    bool run_all() {
        bool any = false;
        for (;;) {
            if (!jobs_.empty()) {
                auto [work, done] = std::move(jobs_.front());
                jobs_.pop_front();
                work();
                done();
                any = true;
                continue;
            }
            std::vector<std::function<void()>> p;
            {
                std::lock_guard lock(mu_);
                p.swap(posts_);
            }
            if (p.empty()) return any;
            for (auto& fn : p) fn();
            any = true;
        }
    }
    size_t pending_jobs() const { return jobs_.size(); }

    void deliver(const std::string& user, const std::string& subject,
                 const std::string& folder = "INBOX", uint8_t flags = 0) {
        std::string msg = "From: x@example.net\r\nSubject: " + subject + "\r\n\r\nbody\r\n";
        DeliveryOptions o;
        o.folder = folder;
        o.flags = flags;
        REQUIRE(store_.deliver(user, MessageSource::from_bytes(msg), o));
    }

private:
    MemoryStore store_;
    SaslCallbacks cb_;
    std::deque<std::pair<std::function<void()>, std::function<void()>>> jobs_;
    std::mutex mu_;
    std::vector<std::function<void()>> posts_;
};

class TestTransport : public ImapTransport {
public:
    void write(std::string_view b) override { out.append(b); }
    bool output_full() const override { return full; }
    void pause_reading() override { paused = true; }
    void resume_reading() override { paused = false; }
    void close() override { closed = true; }
    bool start_tls() override {
        tls_started = true;
        return true;
    }
    bool is_tls() const override { return tls; }
    bool tls_available() const override { return tls_configured; }
    bool start_compression(std::string_view received) override {
        if (!compress_ok) return false;
        compressing = true;
        compressed_input.append(received);
        return true;
    }
    bool compression_active() const override { return compressing; }
    void start_timer(uint32_t ms) override { timer = ms; }

    std::string out;
    bool full = false;
    bool paused = false;
    bool closed = false;
    bool tls = false;
    bool tls_configured = true;
    bool tls_started = false;
    bool compress_ok = true;  // start_compression succeeds
    bool compressing = false;
    std::string compressed_input;  // what the session handed back after COMPRESS
    std::optional<uint32_t> timer;
};

// One client: send a line, get everything the server said until it settled.
class Client {
public:
    explicit Client(TestBackend& b, bool tls = true, ImapSessionOptions o = {})
        : backend_(b), session_(init(b, tls, std::move(o))) {
        session_->start();
        greeting = take();
    }

    std::string send(const std::string& line) { return raw(line + "\r\n"); }
    std::string raw(const std::string& bytes) {
        session_->on_input(bytes);
        settle();
        return take();
    }
    void settle() {
        for (;;) {
            bool any = backend_.run_all();
            if (transport_.timer) {
                transport_.timer.reset();
                session_->timer_fired();
                continue;
            }
            if (!any) return;
        }
    }
    std::string take() { return std::exchange(transport_.out, {}); }
    // Logs in (over TLS) and selects `folder` when given.
    void login(const std::string& user = "alice", const std::string& folder = {}) {
        REQUIRE(send("l1 LOGIN " + user + " pw").find("l1 OK") != std::string::npos);
        if (!folder.empty())
            REQUIRE(send("l2 SELECT " + folder).find("l2 OK [READ-WRITE]") != std::string::npos);
    }
    ImapSession& session() { return *session_; }
    TestTransport& transport() { return transport_; }

    std::string greeting;

private:
    std::unique_ptr<ImapSession> init(TestBackend& b, bool tls, ImapSessionOptions o) {
        transport_.tls = tls;
        o.auth_failure_delay_ms = 10;
        return std::make_unique<ImapSession>(b, transport_, std::move(o));
    }

    TestBackend& backend_;
    TestTransport transport_;
    std::unique_ptr<ImapSession> session_;
};

inline bool has(const std::string& out, const std::string& want) {
    return out.find(want) != std::string::npos;
}

}  // namespace imaptest
