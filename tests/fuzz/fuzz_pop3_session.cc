// libFuzzer: a whole POP3 session over the in-memory maildrop. Input bytes are
// the client's side of the conversation; the session must never crash, hang
// or leak, whatever order commands come in.
#include <cstddef>
#include <cstdint>
#include <string>

#include "libproto/core/line_reader.h"
#include "tests/support/pop3_maildrop_memory.h"
#include "libproto/pop3/pop3_session.h"

namespace {

struct Backend : postern::Pop3Backend {
    postern::Pop3MemoryStore store;
    postern::SaslCallbacks cb;
    Backend() {
        cb.resolve_login =
            [](std::string_view login) -> std::expected<std::string, postern::SaslLookupError> {
            if (login == "a" || login == "a@x" || login == "a%x") return std::string("a@x");
            return std::unexpected(postern::SaslLookupError::not_found);
        };
        cb.verify_password = [](std::string_view user, std::string_view pw) {
            return user == "a@x" && pw == "b" ? postern::PasswordCheck::ok
                                              : postern::PasswordCheck::mismatch;
        };
        store.deliver("a@x", "Subject: 1\r\n\r\n.dot\r\nbody\r\n");
        store.deliver("a@x", "Subject: 2\r\n\r\n");
        store.deliver("a@x", "no crlf at end");
    }
    const postern::SaslCallbacks& sasl_callbacks() override { return cb; }
    std::expected<std::unique_ptr<postern::Maildrop>, postern::MaildropError> open_maildrop(
        const std::string& user) override {
        return store.open(user, true);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Backend be;
    if (size > 0 && (data[0] & 1)) be.store.remove("a@x", 2);
    postern::Pop3SessionOptions o;
    o.tls_active = size > 0 && (data[0] & 2);
    o.tls_available = true;
    o.plaintext_without_tls = size > 0 && (data[0] & 4);
    o.chunk_size = 7;
    postern::Pop3Session s(be, o);
    s.start();
    postern::LineReader r({.max_line = 300});
    r.feed(std::string_view(reinterpret_cast<const char*>(data), size));
    size_t total = 0;
    while (auto ev = r.next()) {
        if (ev->kind == postern::LineEvent::Kind::too_long)
            s.on_line_too_long();
        else
            s.on_line(ev->data);
        for (int guard = 0; guard < 10000; ++guard) {
            if (s.wait() == postern::Pop3Wait::output)
                s.output_drained();
            else if (s.wait() == postern::Pop3Wait::timer)
                s.timer_fired();
            else if (s.wait() == postern::Pop3Wait::tls)
                s.tls_started();
            else
                break;
        }
        total += s.take_output().size();
        if (s.wait() == postern::Pop3Wait::closed) break;
    }
    s.connection_lost();
    (void)total;
    return 0;
}
