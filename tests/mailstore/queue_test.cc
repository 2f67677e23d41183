#include "libmailstore/queue/queue.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstring>
#include <fstream>
#include <set>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <atomic>
#include <thread>
#include <unistd.h>

using namespace postern;

namespace {

struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        char tmpl[] = "/tmp/postern-queue-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(dir); }
};

Envelope sample_envelope() {
    Envelope e;
    e.reverse_path = "alice@example.org";
    Recipient r;
    r.address = "bob@example.test";
    e.recipients.push_back(r);
    e.client_ip = "127.0.0.1";
    e.client_helo = "client.example";
    return e;
}

std::string commit_one(Queue& q, const std::string& body, Envelope env = sample_envelope()) {
    auto w = q.create();
    REQUIRE(w);
    REQUIRE(w->append(body));
    auto id = w->commit(std::move(env));
    REQUIRE(id);
    return *id;
}

size_t count_files(const std::filesystem::path& d) {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(d)) ++n;
    return n;
}

}  // namespace

TEST_CASE("queue: envelope round trip with odd addresses") {
    struct Case {
        const char* label;
        std::string from;
        std::string rcpt;
        std::string orcpt;
    };
    auto tc = GENERATE(values<Case>({
        {"plain", "a@b.example", "c@d.example", ""},
        {"null reverse path", "", "postmaster@d.example", ""},
        {"quoted local part with spaces", "\"john doe\"@x.example", "\"a b\"@y.example", ""},
        {"percent and newline", "we%ird\r\n@x.example", "100%@y.example", "rfc822;100%@y"},
        {"utf8",
         "j\xC3\xB6rg@b\xC3\xBC"
         "cher.example",
         "\xE7\x94\xA8\xE6\x88\xB7@x.example", "utf-8;\xE7\x94\xA8"},
        {"trailing space", "a @b", " c@d ", " "},
    }));
    DYNAMIC_SECTION(tc.label) {
        Envelope e;
        e.id = "0123456789ABCDEF01";
        e.reverse_path = tc.from;
        Recipient r;
        r.address = tc.rcpt;
        r.orcpt = tc.orcpt;
        r.notify = dsn_notify::success | dsn_notify::failure;
        e.recipients = {r, r};
        e.envid = "env id+2B";
        e.ret = DsnRet::hdrs;
        e.body = BodyType::eight_bit_mime;
        e.smtputf8 = true;
        e.client_ip = "::1";
        e.client_helo = "helo with space";
        e.auth_user = "alice@example.test";
        e.arrival = 1700000000;
        auto d = decode_envelope(encode_envelope(e));
        REQUIRE(d);
        INFO("got from '" << d->reverse_path << "', want '" << tc.from << "'");
        CHECK(d->id == e.id);
        CHECK(d->reverse_path == tc.from);
        REQUIRE(d->recipients.size() == 2);
        CHECK(d->recipients[1].address == tc.rcpt);
        CHECK(d->recipients[1].orcpt == tc.orcpt);
        CHECK(d->recipients[1].notify == r.notify);
        CHECK(d->envid == e.envid);
        CHECK(d->ret == DsnRet::hdrs);
        CHECK(d->body == BodyType::eight_bit_mime);
        CHECK(d->smtputf8);
        CHECK(d->client_ip == "::1");
        CHECK(d->client_helo == e.client_helo);
        CHECK(d->auth_user == e.auth_user);
        CHECK(d->arrival == 1700000000);
        CHECK_FALSE(d->requiretls);
        e.requiretls = true;
        auto rt = decode_envelope(encode_envelope(e));
        REQUIRE(rt);
        CHECK(rt->requiretls);
        CHECK_FALSE(rt->tls_optional);
        e.requiretls = false;
        e.tls_optional = true;
        auto to = decode_envelope(encode_envelope(e));
        REQUIRE(to);
        CHECK(to->tls_optional);
        CHECK_FALSE(to->requiretls);
    }
}

TEST_CASE("queue: malformed envelope text is invalid") {
    for (const char* text :
         {"", "from a\n", "rcpt 1 x\nend\n", "from %G0\nend\n", "from %4\nend\n"}) {
        INFO("text: " << text);
        CHECK_FALSE(decode_envelope(text));
    }
}

TEST_CASE("queue: commit makes an entry visible, byte-exact") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    std::string body = "Subject: hi\r\n\r\n";
    for (int i = 0; i < 20000; ++i) body += "line " + std::to_string(i) + "\r\n";  // > buffer
    auto w = q->create();
    REQUIRE(w);
    CHECK(Queue::valid_id(w->id()));
    // Appended in odd-sized chunks, as a session would stream it.
    for (size_t off = 0; off < body.size(); off += 7777) REQUIRE(w->append(body.substr(off, 7777)));
    CHECK(q->ids()->empty());  // not visible before commit
    auto id = w->commit(sample_envelope());
    REQUIRE(id);
    auto ids = q->ids();
    REQUIRE(ids->size() == 1);
    CHECK((*ids)[0] == *id);
    auto env = q->read(*id);
    REQUIRE(env);
    CHECK(env->size == body.size());
    CHECK(env->reverse_path == "alice@example.org");
    CHECK(env->arrival > 0);
    std::string got;
    auto n = q->read_message(*id, 0, body.size() + 100, got);
    REQUIRE(n);
    CHECK(*n == body.size());
    CHECK(got == body);
    got.clear();
    REQUIRE(q->read_message(*id, 5, 3, got));
    CHECK(got == body.substr(5, 3));
    CHECK(count_files(t.dir / "incoming") == 0);
}

TEST_CASE("queue: abort and destruction remove the partial entry") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    {
        auto w = q->create();
        REQUIRE(w);
        REQUIRE(w->append("x"));
        CHECK(count_files(t.dir / "incoming") == 1);
        w->abort();
        CHECK(count_files(t.dir / "incoming") == 0);
    }
    {
        auto w = q->create();
        REQUIRE(w);
        REQUIRE(w->append("x"));
    }
    CHECK(count_files(t.dir / "incoming") == 0);
    CHECK(q->ids()->empty());
}

TEST_CASE("queue: list, delete, flush and progress records") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    Envelope e = sample_envelope();
    Recipient r2;
    r2.address = "carol@example.test";
    Recipient r3;
    r3.address = "dave@remote.example";
    e.recipients.push_back(r2);
    e.recipients.push_back(r3);
    std::string a = commit_one(*q, "A\r\n", e);
    std::string b = commit_one(*q, "BB\r\n");
    CHECK(a < b);  // ids are time-ordered

    auto list = q->list();
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].id == a);
    CHECK((*list)[0].recipients.size() == 3);
    CHECK((*list)[1].size == 4);

    REQUIRE(q->append_state(
        a,
        {{.kind = StateRecord::Kind::done, .rcpt = 0},
         {.kind = StateRecord::Kind::fail, .rcpt = 1, .error = "5.1.1 no such\nuser %"},
         {.kind = StateRecord::Kind::local_done, .rcpt = 2},
         {.kind = StateRecord::Kind::defer, .rcpt = 2, .error = "4.4.0 remote"},
         {.kind = StateRecord::Kind::attempt, .attempts = 3, .next_attempt = 4000000000}},
        true));
    auto env = q->read(a);
    REQUIRE(env);
    CHECK(env->recipients[0].status == RcptStatus::delivered);
    CHECK(env->recipients[1].status == RcptStatus::failed);
    CHECK(env->recipients[1].last_error == "5.1.1 no such\nuser %");
    CHECK(env->recipients[2].status == RcptStatus::pending);
    CHECK(env->recipients[2].local_done);
    CHECK(env->recipients[2].last_error == "4.4.0 remote");
    CHECK(env->attempts == 3);
    CHECK(env->next_attempt == 4000000000);

    auto flushed = q->flush();
    REQUIRE(flushed);
    CHECK(*flushed == 1);
    CHECK(q->read(a)->next_attempt == 0);
    CHECK(q->read(a)->attempts == 3);

    REQUIRE(q->remove(a));
    CHECK(q->remove(a).error() == QueueError::not_found);
    CHECK(q->read(a).error() == QueueError::not_found);
    CHECK(q->ids()->size() == 1);
    CHECK(count_files(t.dir / "state") == 0);
    // Ids that are not queue ids never reach the file system.
    CHECK(q->remove("../active").error() == QueueError::not_found);
    CHECK(q->read("").error() == QueueError::not_found);
}

TEST_CASE("queue: a torn state record is ignored") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    std::string id = commit_one(*q, "x\r\n");
    REQUIRE(q->append_state(
        id, {{.kind = StateRecord::Kind::attempt, .attempts = 1, .next_attempt = 123}}, false));
    std::ofstream(t.dir / "state" / id, std::ios::app) << "D 0";  // no newline: crash mid-write
    auto env = q->read(id);
    REQUIRE(env);
    CHECK(env->recipients[0].status == RcptStatus::pending);
    CHECK(env->attempts == 1);
}

TEST_CASE("queue: a record appended after a torn one never merges with it") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    Envelope env = sample_envelope();
    for (int i = 0; i < 12; ++i) {
        Recipient r;
        r.address = "r" + std::to_string(i) + "@example.test";
        env.recipients.push_back(r);
    }
    std::string id = commit_one(*q, "x\r\n", env);
    const auto log = t.dir / "state" / id;
    SECTION("torn inside the payload") {
        // "D 12" torn to "D 1" by a crash, then spoold appends the next attempt.
        REQUIRE(q->append_state(id, {{.kind = StateRecord::Kind::done, .rcpt = 12}}, false));
        std::filesystem::resize_file(log, 3);
    }
    SECTION("torn inside the check digits") {
        REQUIRE(q->append_state(id, {{.kind = StateRecord::Kind::done, .rcpt = 1}}, false));
        std::filesystem::resize_file(log, std::filesystem::file_size(log) - 3);
    }
    SECTION("an old unframed record") { std::ofstream(log, std::ios::app) << "D 1\n"; }
    REQUIRE(q->append_state(
        id, {{.kind = StateRecord::Kind::attempt, .attempts = 2, .next_attempt = 456}}, false));
    auto got = q->read(id);
    REQUIRE(got);
    CHECK(got->recipients[1].status == RcptStatus::pending);  // before: "D 1" + "A 2 ..." merged
    CHECK(got->attempts == 2);
    CHECK(got->next_attempt == 456);
}

TEST_CASE("queue: clean_incoming removes partial entries and orphan state, not live writers") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    // A crashed session's partial entry, and one a live writer (smtpd) still holds.
    std::ofstream(t.dir / "incoming" / "0000000000000BBBBB") << "partial";
    auto live = q->create();
    REQUIRE(live);
    REQUIRE(live->append("Subject: live\r\n\r\nbody\r\n"));
    std::ofstream(t.dir / "state" / "0000000000000AAAAA") << "A 1 2\n";
    std::string keep = commit_one(*q, "x\r\n");
    REQUIRE(q->append_state(
        keep, {{.kind = StateRecord::Kind::attempt, .attempts = 1, .next_attempt = 2}}, false));
    auto other = Queue::open(t.dir);  // spoold's own handle
    REQUIRE(other);
    CHECK(other->clean_incoming() == 2);
    CHECK(count_files(t.dir / "incoming") == 1);
    CHECK(q->read(keep)->attempts == 1);
    Envelope env;
    env.reverse_path = "a@b.example";
    Recipient rcpt;
    rcpt.address = "u@d.example";
    env.recipients.push_back(rcpt);
    CHECK(live->commit(env).has_value());  // the live entry was left alone
}

TEST_CASE("queue: SIGKILL while writing leaves no visible entry") {
    TempDir t;
    int pfd[2];
    REQUIRE(pipe(pfd) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        auto q = Queue::open(t.dir);
        if (!q) _exit(1);
        auto w = q->create();
        if (!w) _exit(1);
        std::string chunk(64 * 1024, 'x');
        for (int i = 0;; ++i) {
            if (!w->append(chunk)) _exit(1);
            if (i == 8 && write(pfd[1], "s", 1) != 1) _exit(1);  // well into the message
        }
    }
    close(pfd[1]);
    char c = 0;
    REQUIRE(read(pfd[0], &c, 1) == 1);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(pfd[0]);
    CHECK(WIFSIGNALED(status));
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    CHECK(q->ids()->empty());
    CHECK(q->list()->empty());
    CHECK(count_files(t.dir / "incoming") == 1);
    CHECK(q->clean_incoming() == 1);
}

TEST_CASE("queue: SIGKILL during a stream of commits keeps every committed entry") {
    TempDir t;
    int pfd[2];
    REQUIRE(pipe(pfd) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        auto q = Queue::open(t.dir);
        if (!q) _exit(1);
        for (int i = 0; i < 100000; ++i) {
            auto w = q->create();
            if (!w) _exit(1);
            std::string body = "Message-ID: <" + std::to_string(i) + "@t>\r\n\r\n" +
                               std::string(static_cast<size_t>(i % 7) * 1000, 'y') + "\r\n";
            if (!w->append(body)) _exit(1);
            auto id = w->commit(sample_envelope());
            if (!id) _exit(1);
            std::string line = *id + "\n";  // reported only after commit returned
            if (write(pfd[1], line.data(), line.size()) != ssize_t(line.size())) _exit(1);
        }
        _exit(0);
    }
    close(pfd[1]);
    std::string reported;
    char buf[4096];
    while (reported.size() < 19 * 30) {  // let it commit a few dozen first
        ssize_t n = read(pfd[0], buf, sizeof buf);
        REQUIRE(n > 0);
        reported.append(buf, static_cast<size_t>(n));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ssize_t n;
    while ((n = read(pfd[0], buf, sizeof buf)) > 0) reported.append(buf, static_cast<size_t>(n));
    close(pfd[0]);

    auto q = Queue::open(t.dir);
    REQUIRE(q);
    auto ids = q->ids();
    std::set<std::string> present(ids->begin(), ids->end());
    size_t committed = 0;
    for (size_t pos = 0; pos + 19 <= reported.size(); pos += 19) {
        std::string id = reported.substr(pos, 18);
        ++committed;
        INFO("committed id " << id);
        CHECK(present.count(id) == 1);
    }
    CHECK(committed >= 30);
    // Every visible entry is whole (a commit in flight may be visible: that is fine).
    for (const auto& id : *ids) {
        auto env = q->read(id);
        INFO("entry " << id);
        REQUIRE(env);
        CHECK(env->recipients.size() == 1);
    }
}

TEST_CASE("queue: concurrent commits share directory syncs and all land") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int th = 0; th < 8; ++th) {
        threads.emplace_back([&, th] {
            for (int i = 0; i < 15; ++i) {
                auto w = q->create();
                if (!w || !w->append("T" + std::to_string(th) + "\r\n")) continue;
                if (w->commit(sample_envelope())) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(ok == 120);
    CHECK(q->ids()->size() == 120);
}

TEST_CASE("queue: wake datagram reaches a bound socket") {
    TempDir t;
    CHECK_FALSE(queue_wake(t.dir, "X"));  // nobody listening
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string p = queue_wake_socket(t.dir).string();
    std::memcpy(sa.sun_path, p.data(), p.size());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    CHECK(queue_wake(t.dir, "0123"));
    CHECK(queue_wake_rescan(t.dir));
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    CHECK(std::string(buf, size_t(n)) == "w0123");
    n = recv(fd, buf, sizeof buf, 0);
    CHECK(std::string(buf, size_t(n)) == "f");
    close(fd);
}

TEST_CASE("queue: a crafted footer is invalid, never a huge allocation") {
    TempDir t;
    auto q = Queue::open(t.dir);
    REQUIRE(q);
    std::string id = commit_one(*q, "Subject: x\r\n\r\nbody\r\n");
    const auto path = t.dir / "active" / id;
    const uint64_t fsize = std::filesystem::file_size(path);
    constexpr uint64_t kFooter = 42;  // "POSTERN-QUEUE-1 " + 16 hex + ' ' + 8 hex + '\n'
    auto craft = [&](uint64_t msg_size, uint32_t env_len) {
        char f[kFooter + 1];
        std::snprintf(f, sizeof f, "POSTERN-QUEUE-1 %016llX %08X\n",
                      static_cast<unsigned long long>(msg_size), env_len);
        std::fstream out(path, std::ios::in | std::ios::out | std::ios::binary);
        out.seekp(static_cast<std::streamoff>(fsize - kFooter));
        out.write(f, kFooter);
    };
    struct Case {
        const char* label;
        uint64_t msg_size;
        uint32_t env_len;
    };
    // Sizes that add up to the file size only by wrapping around 2^64, and ones past the file.
    const uint32_t big = 0xFFFFFFFFu;
    for (const Case& c : {Case{"4 GiB envelope, wrapped sum", fsize - kFooter - big, big},
                          Case{"message past the end", fsize * 2, 10},
                          Case{"envelope past the end", 0, static_cast<uint32_t>(fsize)}}) {
        DYNAMIC_SECTION(c.label) {
            craft(c.msg_size, c.env_len);
            auto env = q->read(id);
            REQUIRE_FALSE(env);
            CHECK(env.error() == QueueError::invalid);
            std::string got;
            auto n = q->read_message(id, 0, 100, got);
            REQUIRE_FALSE(n);
            CHECK(n.error() == QueueError::invalid);
        }
    }
}
