// smtpd's streaming sink over a real queue and libuv loop: the Received header
// first, flushes on the pool, the committed entry byte-exact; a dropped sink
// leaves nothing behind.
#include "smtpd/smtp_queue_sink.h"

#include <catch2/catch.hpp>
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
    std::unique_ptr<SmtpMessageSink> sink(std::string* id) {
        auto w = queue->create();
        REQUIRE(w.has_value());
        *id = w->id();
        Envelope env;
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
    s.reset();  // dropping a committed sink does not undo the commit
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

TEST_CASE("smtp_queue_sink: a failed create answers its verdict at commit") {
    auto s = make_failed_sink(SmtpVerdict::no_room);
    s->append("ignored");
    std::optional<SmtpDeliveryResult> res;
    s->commit(false, [&](SmtpDeliveryResult r) { res = r; });
    REQUIRE(res);
    CHECK(res->verdict == SmtpVerdict::no_room);
}
