// smtpd's streaming sink over a real queue and libuv loop: the Received header
// first, flushes on the pool, the committed entry byte-exact; a sink dropped before
// commit leaves nothing behind, one dropped during its commit is never heard from
// but its entry is durable and spoold is woken.
#include "smtpd/smtp_queue_sink.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace postern;

namespace {

struct Fixture {
    std::filesystem::path dir;
    uv_loop_t loop{};
    std::optional<Queue> queue;
    Fixture() {
        char tmpl[] = "/tmp/postern-sink-XXXXXX";
        dir = mkdtemp(tmpl);
        REQUIRE(uv_loop_init(&loop) == 0);
        auto q = Queue::open(dir / "queue");
        REQUIRE(q.has_value());
        queue.emplace(std::move(*q));
    }
    ~Fixture() {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        std::filesystem::remove_all(dir);
    }
    std::unique_ptr<SmtpMessageSink> sink(std::string* id, bool requiretls = false) {
        auto w = queue->create();
        REQUIRE(w.has_value());
        *id = w->id();
        Envelope env;
        env.requiretls = requiretls;
        env.reverse_path = "a@b.example";
        Recipient r;
        r.address = "u@d.example";
        env.recipients.push_back(r);
        return make_queue_sink(&loop, std::move(*w), env, "Received: x\r\n", dir / "run");
    }
    size_t count(const char* sub) {
        size_t n = 0;
        for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir / "queue" / sub))
            ++n;
        return n;
    }
};

}  // namespace

TEST_CASE("smtp_queue_sink: streams with flushes on the pool and commits byte-exact") {
    Fixture f;
    std::string id;
    auto s = f.sink(&id);
    std::string body;
    int flushes = 0;
    for (int i = 0; i < 100; ++i) {
        std::string piece(10000, static_cast<char>('a' + i % 26));
        body += piece;
        s->append(piece);
        if (s->wants_flush()) {
            bool done = false;
            s->flush([&] { done = true; });
            ++flushes;
            CHECK_FALSE(s->wants_flush());  // in flight
            while (!done) uv_run(&f.loop, UV_RUN_ONCE);
        }
    }
    CHECK(flushes >= 5);
    std::optional<SmtpDeliveryResult> res;
    s->commit(false, [&](SmtpDeliveryResult r) { res = r; });
    while (!res) uv_run(&f.loop, UV_RUN_ONCE);
    REQUIRE(res->verdict == SmtpVerdict::ok);
    CHECK(res->queue_id == id);
    std::string got;
    REQUIRE(f.queue->read_message(id, 0, 2'000'000, got));
    CHECK(got == "Received: x\r\n" + body);
    auto env = f.queue->read(id);
    REQUIRE(env.has_value());
    CHECK(env->reverse_path == "a@b.example");
}

TEST_CASE("smtp_queue_sink: a sink dropped before commit leaves no entry") {
    Fixture f;
    std::string id;
    {
        auto s = f.sink(&id);
        s->append(std::string(200000, 'x'));
        REQUIRE(s->wants_flush());
        s->flush([] {});
    }  // dropped with the flush in flight
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK(f.count("incoming") == 0);
    CHECK(f.count("active") == 0);
    {
        auto s = f.sink(&id);
        s->append("abc");
    }
    CHECK(f.count("incoming") == 0);
}

TEST_CASE("smtp_queue_sink: commits run on the pool and answer on the loop thread") {
    Fixture f;
    auto loop_thread = std::this_thread::get_id();
    std::vector<std::string> ids(5), got;
    std::vector<std::unique_ptr<SmtpMessageSink>> sinks;
    for (auto& id : ids) {
        sinks.push_back(f.sink(&id));
        sinks.back()->append("async\r\n");
        sinks.back()->commit(false, [&](SmtpDeliveryResult r) {
            CHECK(std::this_thread::get_id() == loop_thread);
            REQUIRE(r.verdict == SmtpVerdict::ok);
            got.push_back(r.queue_id);
        });
    }
    CHECK(got.empty());  // nothing committed on the loop thread, inline
    uv_run(&f.loop, UV_RUN_DEFAULT);
    std::sort(ids.begin(), ids.end());
    std::sort(got.begin(), got.end());
    CHECK(got == ids);
    CHECK(f.count("active") == 5);
}

TEST_CASE(
    "smtp_queue_sink: a sink dropped during its commit is never called back, "
    "and the commit still completes and wakes spoold") {
    Fixture f;
    // spoold's wake socket, to see that the commit's wake-up still goes out.
    std::filesystem::create_directories(f.dir / "run");
    int wake = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    REQUIRE(wake >= 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string path = queue_wake_socket(f.dir / "run").string();
    std::memcpy(sa.sun_path, path.data(), path.size());
    REQUIRE(bind(wake, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);

    std::string id;
    auto s = f.sink(&id);
    s->append(std::string(300000, 'y'));  // more than one flush's worth, written by the commit
    s->commit(false, [](SmtpDeliveryResult) { FAIL("a dropped sink called back"); });
    s.reset();                        // the session went while the commit was in flight
    uv_run(&f.loop, UV_RUN_DEFAULT);  // returns once the pool work is done
    CHECK(f.count("incoming") == 0);
    REQUIRE(f.count("active") == 1);
    std::string got;
    REQUIRE(f.queue->read_message(id, 0, 2'000'000, got));
    CHECK(got == "Received: x\r\n" + std::string(300000, 'y'));
    char buf[64];
    ssize_t n = recv(wake, buf, sizeof buf, 0);
    CHECK(std::string(buf, n > 0 ? size_t(n) : 0) == "w" + id);
    close(wake);
}

TEST_CASE("smtp_queue_sink: \"TLS-Required: No\" in the header marks the envelope (RFC 8689 5)") {
    struct Case {
        std::vector<std::string> pieces;
        bool requiretls;
        bool optional;
    };
    const std::vector<Case> cases = {
        {{"Subject: x\r\nTLS-Required: No\r\n\r\nbody\r\n"}, false, true},
        {{"Subject: x\r\ntls-required  :", "\r\n  nO \r\n", "\r\nbody\r\n"}, false, true},
        {{"TLS-Required: No\r\n\r\n"}, true, false},  // REQUIRETLS wins (RFC 8689 4.1)
        {{"Subject: x\r\nTLS-Required: yes\r\n\r\n"}, false, false},
        {{"Subject: x\r\n\r\nTLS-Required: No\r\n"}, false, false},  // in the body
        {{"Subject: x\r\nX-TLS-Required: No\r\n\r\n"}, false, false},
    };
    for (const auto& c : cases) {
        INFO(c.pieces[0]);
        Fixture f;
        std::string id;
        auto s = f.sink(&id, c.requiretls);
        for (const auto& p : c.pieces) s->append(p);
        std::optional<SmtpDeliveryResult> res;
        s->commit(false, [&](SmtpDeliveryResult r) { res = r; });
        while (!res) uv_run(&f.loop, UV_RUN_ONCE);
        REQUIRE(res->verdict == SmtpVerdict::ok);
        auto env = f.queue->read(id);
        REQUIRE(env.has_value());
        CHECK(env->tls_optional == c.optional);
    }
}

TEST_CASE("smtp_queue_sink: 100 Received fields are a mail loop: 554 5.4.6, nothing queued") {
    for (size_t n : {smtp_max_received - 1, smtp_max_received}) {
        INFO(n);
        Fixture f;
        std::string id;
        auto s = f.sink(&id);
        std::string header;
        for (size_t i = 0; i < n; ++i)
            header += "Received: from h" + std::to_string(i) + "\r\n\tby x; now\r\n";
        s->append(header + "Subject: loop\r\n\r\nReceived: in the body\r\n");
        std::optional<SmtpDeliveryResult> res;
        s->commit(false, [&](SmtpDeliveryResult r) { res = r; });
        while (!res) uv_run(&f.loop, UV_RUN_ONCE);
        if (n < smtp_max_received) {
            CHECK(res->verdict == SmtpVerdict::ok);
            CHECK(f.count("active") == 1);
        } else {
            CHECK(res->verdict == SmtpVerdict::too_many_hops);
            CHECK(smtp_verdict_reply(res->verdict, SmtpStage::data).code == 554);
            CHECK(f.count("active") == 0);
            CHECK(f.count("incoming") == 0);
        }
    }
}
