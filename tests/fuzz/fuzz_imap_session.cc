// libFuzzer: a whole IMAP session (ImapSession, every command it dispatches) over the
// in-memory MailStore. After a scripted LOGIN and SELECT INBOX, the input bytes are the
// client's side of the conversation, fed in pieces; between pieces the queued store jobs
// and watch posts run, and (per the first byte) the transport backs up, or another handle
// changes flags, expunges or delivers, so the untagged-update and backpressure paths run
// too. The session must never crash, hang, leak or trip a sanitizer, and never write after
// it closed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "imapd/imap_session.h"
#include "tests/support/memory_store.h"

namespace {

using namespace postern;

const std::string user = "a@x";

class Backend : public ImapBackend {
public:
    Backend() {
        store_.create_user(user);
        store_.create_folder(user, "Archive");
        store_.create_folder(user, "Trash", use_trash);
        cb_.resolve_login =
            [](std::string_view login) -> std::expected<std::string, SaslLookupError> {
            if (login == "a" || login == user) return user;
            return std::unexpected(SaslLookupError::not_found);
        };
        cb_.verify_password = [](std::string_view u, std::string_view pw) {
            return u == user && pw == "b" ? PasswordCheck::ok : PasswordCheck::mismatch;
        };
        deliver("Subject: plain\r\n\r\nbody\r\n", 0, {});
        deliver(
            "Subject: seen\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nh\xc3\xa9\r\n--b\r\n"
            "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n--b--\r\n",
            flag_seen, {"$Work"});
        deliver("Subject: deleted\r\n\r\n", flag_deleted | flag_flagged, {});
        deliver("no header at all", flag_draft, {"Later", "$Junk"});
        deliver("Subject: archived\r\n\r\nold\r\n", flag_answered, {}, "Archive");
    }
    MailStore& store() override { return store_; }
    const SaslCallbacks& sasl_callbacks() override { return cb_; }
    SaslOptions sasl_options() override { return {}; }
    void run_blocking(std::function<void()> work, std::function<void()> done) override {
        jobs_.emplace_back(std::move(work), std::move(done));
    }
    void post(std::function<void()> fn) override { posts_.push_back(std::move(fn)); }

    void deliver(std::string_view msg, uint8_t flags, std::vector<std::string> kws,
                 const std::string& folder = "INBOX") {
        DeliveryOptions o;
        o.folder = folder;
        o.flags = flags;
        o.keywords = std::move(kws);
        (void)store_.deliver(user, MessageSource::from_bytes(msg), o);
    }
    // Runs queued jobs and posts until none is left (bounded: a session that kept queueing
    // work forever would be a hang).
    void settle() {
        for (int guard = 0; guard < 100000; ++guard) {
            if (!jobs_.empty()) {
                auto [work, done] = std::move(jobs_.front());
                jobs_.pop_front();
                work();
                done();
                continue;
            }
            if (posts_.empty()) return;
            auto p = std::move(posts_);
            posts_.clear();
            for (auto& fn : p) fn();
        }
        __builtin_trap();
    }

private:
    MemoryStore store_;
    SaslCallbacks cb_;
    std::deque<std::pair<std::function<void()>, std::function<void()>>> jobs_;
    std::vector<std::function<void()>> posts_;
};

class Transport : public ImapTransport {
public:
    void write(std::string_view b) override {
        if (closed) __builtin_trap();  // nothing after close
        written += b.size();
        if (trace) fwrite(b.data(), 1, b.size(), stderr);
    }
    bool output_full() const override { return full; }
    void pause_reading() override {}
    void resume_reading() override {}
    void close() override { closed = true; }
    bool start_tls() override { return true; }
    bool is_tls() const override { return true; }
    bool tls_available() const override { return true; }
    // COMPRESS: the fuzzer's input stays plaintext (the bytes handed back are dropped).
    bool start_compression(std::string_view) override {
        compressing = true;
        return true;
    }
    bool compression_active() const override { return compressing; }
    void start_timer(uint32_t) override { timer = true; }

    size_t written = 0;
    // FUZZ_IMAP_TRACE=1: the server's side goes to stderr (for writing seeds).
    bool trace = getenv("FUZZ_IMAP_TRACE") != nullptr;
    bool full = false;
    bool closed = false;
    bool timer = false;
    bool compressing = false;
};

// Another client's change to INBOX between two pieces of input.
void other_change(Backend& be, uint8_t what) {
    auto box = be.store().open_mailbox(user, "INBOX");
    if (!box) return;
    auto snap = (*box)->messages();
    if (snap.empty()) {
        be.deliver("Subject: new\r\n\r\n", 0, {});
        return;
    }
    std::vector<uint32_t> one{snap[what % snap.size()].uid};
    switch (what % 3) {
    case 0: (void)(*box)->store_flags(one, FlagChange{FlagOp::add, flag_seen, {"Other"}}); break;
    case 1: (void)(*box)->expunge(one); break;
    default: be.deliver("Subject: new\r\n\r\n", 0, {}); break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const uint8_t mode = data[0];           // bit 0: backpressure, bit 1: others change INBOX
    const size_t piece = 1 + data[1] % 64;  // bytes fed at a time
    data += 2;
    size -= 2;

    Backend be;
    Transport t;
    ImapSessionOptions o;
    o.auth_failure_delay_ms = 1;
    o.append_limit = 1 << 16;  // APPEND's messages stay small
    {
        ImapSession s(be, t, o);
        s.start();
        s.on_input("1 LOGIN a b\r\n2 SELECT INBOX\r\n");
        be.settle();
        for (size_t at = 0, n = 0; at < size && !s.closed(); at += piece, ++n) {
            size_t len = std::min(piece, size - at);
            t.full = (mode & 1) != 0 && (n % 3) == 0;
            s.on_input(std::string_view(reinterpret_cast<const char*>(data + at), len));
            be.settle();
            if ((mode & 2) != 0 && (n % 4) == 1) {
                other_change(be, data[at]);
                be.settle();
            }
            if (t.timer) {
                t.timer = false;
                s.timer_fired();
                be.settle();
            }
            if (t.full) {
                t.full = false;
                s.on_drain();
                be.settle();
            }
        }
        // Whatever is still waiting: let it run out, then end the session.
        for (int i = 0; i < 4 && !s.closed(); ++i) {
            t.full = false;
            s.on_drain();
            if (t.timer) {
                t.timer = false;
                s.timer_fired();
            }
            be.settle();
        }
        s.shutdown();
        be.settle();
    }
    be.settle();  // jobs queued by the session run after it is gone: no callback into it
    return 0;
}
