#include "client.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>

namespace imap_load {
namespace {

// The read buffer all clients share: the loop runs one callback at a time.
char read_buf[256 * 1024];

uint64_t micros(Clock::duration d) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

bool parse_u32(std::string_view s, uint32_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if ((s[i] | 0x20) != (prefix[i] | 0x20)) return false;
    return true;
}

std::string quoted(std::string_view s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + '"';
}

struct WriteReq {
    uv_write_t req;
    std::string data;
};

}  // namespace

Client::Client(Run& run, int index) : run_(run), index_(index) {
    const Options& o = run.opts;
    int n = o.first + (o.users > 0 ? index % o.users : index);
    user_ = o.user_fmt;
    if (size_t p = user_.find("%d"); p != std::string::npos) user_.replace(p, 2, std::to_string(n));
    rng_ = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1);
    uv_timer_init(run.loop, &timer_);
    timer_.data = this;
    // A small message (~600 octets), the same for every APPEND of this client.
    append_body_ = "From: imap_load <load@bench.test>\r\nTo: " + user_ +
                   "\r\nSubject: imap_load append from client " + std::to_string(index) +
                   "\r\nMessage-ID: <imap_load." + std::to_string(index) +
                   "@bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n";
    while (append_body_.size() < 560)
        append_body_ += "appended by imap_load to be expunged again by the same client\r\n";
}

uint32_t Client::random_below(uint32_t n) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return n ? static_cast<uint32_t>(rng_ % n) : 0;
}

void Client::start() {
    if (state_ != State::closed || handle_open_) return;
    started_once_ = true;
    retry_ = false;
    scanner_.clear();
    plain_.clear();
    idling_ = cont_wanted_ = bye_ = false;
    exists_ = 0;
    rep_ = 0;
    uv_tcp_init(run_.loop, &tcp_);
    handle_open_ = true;
    tcp_.data = this;
    uv_tcp_nodelay(&tcp_, 1);
    sockaddr_in sa{};
    uv_ip4_addr(run_.opts.host.c_str(), run_.opts.port, &sa);
    connect_req_.data = this;
    state_ = State::connecting;
    started_ = Clock::now();
    int r =
        uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&sa), on_connect);
    if (r < 0) fail("connect", uv_strerror(r));
}

void Client::on_connect(uv_connect_t* req, int status) {
    auto* c = static_cast<Client*>(req->data);
    if (c->state_ != State::connecting) return;
    if (status < 0) return c->fail("connect", uv_strerror(status));
    c->state_ = State::greeting;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
    if (c->run_.opts.tls) {
        c->tls_ = std::make_unique<TlsStream>(c->run_.ssl);
        if (!c->tls_->start()) return c->fail("TLS", c->tls_->error());
        c->tls_->network_output(c->cipher_out_);
        c->send_raw(c->cipher_out_);
    }
}

void Client::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
    *buf = uv_buf_init(read_buf, sizeof read_buf);
}

void Client::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
    auto* c = static_cast<Client*>(s->data);
    if (n == 0) return;
    if (n < 0) {
        if (c->state_ == State::closing) return c->close();
        return c->fail(
            cmd_names[static_cast<size_t>(c->cmd_)],
            n == UV_EOF ? "server closed the connection" : uv_strerror(static_cast<int>(n)));
    }
    c->run_.stats.bytes_in += static_cast<uint64_t>(n);
    std::string_view data(read_buf, static_cast<size_t>(n));
    if (!c->tls_) return c->on_bytes(data);
    c->plain_.clear();
    bool ok = c->tls_->on_network(data, c->plain_);
    c->tls_->network_output(c->cipher_out_);
    if (!c->cipher_out_.empty()) c->send_raw(c->cipher_out_);
    if (!c->plain_.empty()) c->on_bytes(c->plain_);
    if (!ok && c->state_ != State::closed && c->state_ != State::closing)
        c->fail("TLS", c->tls_->error());
}

void Client::on_bytes(std::string_view data) {
    uint64_t lit0 = scanner_.literal_bytes();
    bool ok = scanner_.feed(data, [this](std::string_view line) { return on_line(line); });
    run_.stats.literal_bytes += scanner_.literal_bytes() - lit0;
    if (!ok && state_ == State::ready) fail(cmd_names[static_cast<size_t>(cmd_)], "line too long");
}

// Returns false once the connection is being closed (stop scanning its input).
bool Client::on_line(std::string_view line) {
    if (state_ == State::closed || state_ == State::closing) return false;
    if (state_ == State::greeting) {
        if (!line.starts_with("* OK")) {
            fail("greeting", line.substr(0, 200));
            return false;
        }
        state_ = State::ready;
        command(Cmd::login, "LOGIN " + quoted(user_) + " " + quoted(run_.opts.password));
        return true;
    }
    if (line.starts_with("+")) {
        on_continuation();
    } else if (line.starts_with("* ")) {
        on_untagged(line);
    } else if (line.size() > tag_.size() && line.starts_with(tag_) && line[tag_.size()] == ' ') {
        on_tagged(line.substr(tag_.size() + 1));
    } else {
        fail(cmd_names[static_cast<size_t>(cmd_)],
             "unexpected line: " + std::string(line.substr(0, 200)));
    }
    return state_ == State::ready;
}

void Client::on_untagged(std::string_view line) {
    ++untagged_;
    ++run_.stats.untagged;
    std::string_view rest = line.substr(2);
    if (rest.starts_with("BYE")) {
        bye_ = true;
        if (cmd_ != Cmd::logout) fail(cmd_names[static_cast<size_t>(cmd_)], line.substr(0, 200));
        return;
    }
    size_t sp = rest.find(' ');
    uint32_t n = 0;
    if (sp != std::string_view::npos && parse_u32(rest.substr(0, sp), n)) {
        std::string_view what = rest.substr(sp + 1);
        if (starts_with_ci(what, "FETCH"))
            ++fetches_;
        else if (starts_with_ci(what, "EXISTS"))
            exists_ = n;
        else if (starts_with_ci(what, "EXPUNGE") && exists_ > 0)
            --exists_;
    }
    // In the mix, IDLE ends as soon as the server reports something.
    if (idling_ && run_.opts.mode == Mode::mix) {
        idling_ = false;
        uv_timer_stop(&timer_);
        send("DONE\r\n");
    }
}

void Client::on_continuation() {
    if (!cont_wanted_) {
        fail(cmd_names[static_cast<size_t>(cmd_)], "unexpected continuation request");
        return;
    }
    cont_wanted_ = false;
    if (cmd_ == Cmd::append) {
        send(append_body_);
        send("\r\n");
        return;
    }
    // IDLE accepted.
    idling_ = true;
    if (run_.opts.mode == Mode::idle_hold) {
        if (in_setup_) {
            in_setup_ = false;
            ++run_.set_up;
            run_.setup_ended();
        }
        if (run_.releasing) release_idle();
        return;
    }
    uv_timer_start(&timer_, on_timer, static_cast<uint64_t>(run_.opts.idle_ms), 0);
}

void Client::on_timer(uv_timer_t* t) {
    auto* c = static_cast<Client*>(t->data);
    if (c->idling_) {
        c->idling_ = false;
        c->send("DONE\r\n");
    } else if (c->state_ == State::closed && c->retry_ && !c->run_.stopping) {
        c->start();
    }
}

void Client::release_idle() {
    if (idling_) {
        idling_ = false;
        send("DONE\r\n");
    }
}

// Checks the tagged status and the command's untagged lines; false (error counted) if bad.
bool Client::check(std::string_view status) {
    const char* name = cmd_names[static_cast<size_t>(cmd_)];
    if (!starts_with_ci(status, "OK")) {
        ++run_.stats.cmd[static_cast<size_t>(cmd_)].errors;
        run_.error(index_, name, status.substr(0, 300));
        return false;
    }
    const char* bad = nullptr;
    uint64_t lit = scanner_.literal_bytes() - literal_at_start_;
    switch (cmd_) {
    case Cmd::fetch_flags:
        if (fetches_ < msgs_) bad = "fewer FETCH responses than messages";
        break;
    case Cmd::envelope:
        if (msgs_ > 0 && fetches_ == 0) bad = "no FETCH response (UIDs 1..N expected)";
        break;
    case Cmd::body:
        if (fetches_ == 0 || lit == 0) bad = "no FETCH response with a body literal";
        break;
    case Cmd::uid_fetch_all:
        if (fetches_ < exists_) bad = "fewer FETCH responses than EXISTS";
        break;
    case Cmd::append:
        if (!status.contains("[APPENDUID ")) bad = "OK without [APPENDUID] (UIDPLUS needed)";
        break;
    default: break;
    }
    if (bad) {
        ++run_.stats.cmd[static_cast<size_t>(cmd_)].errors;
        run_.error(index_, name, bad);
        return false;
    }
    return true;
}

void Client::on_tagged(std::string_view status) {
    auto now = Clock::now();
    cont_wanted_ = idling_ = false;
    bool ok = check(status);
    bool timed = cmd_ != Cmd::idle || run_.opts.mode == Mode::mix;
    if (ok && timed && run_.recording(started_, now) &&
        !(run_.opts.mode == Mode::select_cost && rep_ == 0))
        run_.stats.record(cmd_, micros(now - started_), untagged_);
    if (!ok && (cmd_ == Cmd::login || cmd_ == Cmd::select || cmd_ == Cmd::idle)) {
        // Without a session or a selected mailbox nothing else can run.
        return fail(nullptr, {});
    }
    if (ok && cmd_ == Cmd::append) {
        // [APPENDUID uidvalidity uid]
        size_t p = status.find("[APPENDUID ");
        std::string_view rest = status.substr(p + 11);
        size_t sp = rest.find(' ');
        size_t end = rest.find(']');
        uint32_t uid = 0;
        if (sp != std::string_view::npos && end != std::string_view::npos && end > sp &&
            parse_u32(rest.substr(sp + 1, end - sp - 1), uid))
            appended_.push_back(uid);
    }
    if (cmd_ == Cmd::logout) {
        done_ = true;
        return close();
    }
    next();
}

void Client::next() {
    const Options& o = run_.opts;
    switch (cmd_) {
    case Cmd::login:
        if (o.mode == Mode::select_cost) return next_select_cost();
        return command(Cmd::select, "SELECT INBOX");
    case Cmd::select:
        if (o.mode == Mode::select_cost) return next_select_cost();
        msgs_ = o.msgs > 0 ? static_cast<uint32_t>(o.msgs) : exists_;
        if (in_setup_) {
            in_setup_ = false;
            if (o.mode == Mode::mix) ++run_.set_up;
            if (o.mode == Mode::mix) run_.setup_ended();
        }
        if (o.mode == Mode::idle_hold) {
            in_setup_ = true;  // until the "+" of IDLE
            cont_wanted_ = true;
            return command(Cmd::idle, "IDLE");
        }
        return next_mix();
    case Cmd::uid_fetch_all: return next_select_cost();
    case Cmd::idle:
        if (o.mode == Mode::idle_hold) return command(Cmd::logout, "LOGOUT");
        return next_mix();
    default: return next_mix();
    }
}

void Client::next_select_cost() {
    const Options& o = run_.opts;
    if (cmd_ == Cmd::select) {
        fetches_ = 0;
        return command(Cmd::uid_fetch_all, "UID FETCH 1:* (FLAGS)");
    }
    if (cmd_ == Cmd::uid_fetch_all) ++rep_;
    if (rep_ > o.reps) return command(Cmd::logout, "LOGOUT");
    command(Cmd::select, "SELECT " + quoted(o.folder));
}

void Client::next_mix() {
    const Options& o = run_.opts;
    if (run_.stopping) {
        // Leave the folder as it was: expunge what this client appended, then log out.
        if (cmd_ == Cmd::store_deleted) return command(Cmd::expunge, "EXPUNGE");
        if (!appended_.empty()) {
            std::string set;
            for (uint32_t u : appended_) set += (set.empty() ? "" : ",") + std::to_string(u);
            appended_.clear();
            return command(Cmd::store_deleted, "UID STORE " + set + " +FLAGS.SILENT (\\Deleted)");
        }
        return command(Cmd::logout, "LOGOUT");
    }
    if (cmd_ == Cmd::store_deleted) return command(Cmd::expunge, "EXPUNGE");
    int total = 0;
    for (int w : o.weights) total += w;
    Op op = Op::noop;
    for (int attempt = 0; attempt < 8; ++attempt) {
        int r = static_cast<int>(random_below(static_cast<uint32_t>(total)));
        size_t i = 0;
        while (r >= o.weights[i]) r -= o.weights[i++];
        op = static_cast<Op>(i);
        bool needs_msgs = op == Op::envelope || op == Op::body || op == Op::store;
        if ((op == Op::expunge && appended_.empty()) || (needs_msgs && msgs_ == 0)) continue;
        break;
    }
    if (appended_.size() >= 32) op = Op::expunge;  // keep the folder's size bounded
    if ((op == Op::expunge && appended_.empty()) ||
        ((op == Op::envelope || op == Op::body || op == Op::store) && msgs_ == 0))
        op = Op::noop;
    switch (op) {
    case Op::flags: return command(Cmd::fetch_flags, "FETCH 1:* (FLAGS)");
    case Op::envelope: {
        uint32_t span = static_cast<uint32_t>(o.envelope_span);
        uint32_t lo = 1 + (msgs_ > span ? random_below(msgs_ - span + 1) : 0);
        return command(Cmd::envelope, "UID FETCH " + std::to_string(lo) + ":" +
                                          std::to_string(lo + span - 1) + " (ENVELOPE)");
    }
    case Op::body:
        return command(Cmd::body,
                       "FETCH " + std::to_string(1 + random_below(msgs_)) + " BODY.PEEK[]");
    case Op::store:
        return command(Cmd::store_seen,
                       "STORE " + std::to_string(1 + random_below(msgs_)) +
                           (random_below(2) ? " +FLAGS (\\Seen)" : " -FLAGS (\\Seen)"));
    case Op::append:
        cont_wanted_ = true;
        return command(Cmd::append, "APPEND INBOX {" + std::to_string(append_body_.size()) + "}");
    case Op::expunge: {
        std::string set;
        for (uint32_t u : appended_) set += (set.empty() ? "" : ",") + std::to_string(u);
        appended_.clear();
        return command(Cmd::store_deleted, "UID STORE " + set + " +FLAGS.SILENT (\\Deleted)");
    }
    case Op::idle: cont_wanted_ = true; return command(Cmd::idle, "IDLE");
    case Op::noop:
    case Op::count: return command(Cmd::noop, "NOOP");
    }
}

void Client::command(Cmd c, std::string_view text) {
    cmd_ = c;
    tag_ = "a" + std::to_string(++tag_no_);
    untagged_ = fetches_ = 0;
    literal_at_start_ = scanner_.literal_bytes();
    started_ = Clock::now();
    std::string line;
    line.reserve(tag_.size() + text.size() + 3);
    line.append(tag_).append(" ").append(text).append("\r\n");
    send(line);
}

void Client::send(std::string_view data) {
    if (!tls_) return send_raw(data);
    if (!tls_->write(data)) return fail("TLS", tls_->error());
    tls_->network_output(cipher_out_);
    send_raw(cipher_out_);
}

void Client::send_raw(std::string_view data) {
    if (data.empty() || !handle_open_ || state_ == State::closing) return;
    auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
    uv_buf_t b = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
    int r = uv_try_write(stream, &b, 1);
    if (r == static_cast<int>(data.size())) return;
    if (r < 0 && r != UV_EAGAIN) return fail("write", uv_strerror(r));
    size_t off = r > 0 ? static_cast<size_t>(r) : 0;
    auto* w = new WriteReq;
    w->data.assign(data.substr(off));
    w->req.data = w;
    b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    r = uv_write(&w->req, stream, &b, 1,
                 [](uv_write_t* req, int) { delete static_cast<WriteReq*>(req->data); });
    if (r < 0) {
        delete w;
        fail("write", uv_strerror(r));
    }
}

void Client::fail(const char* cmd, std::string_view what) {
    if (state_ == State::closed || state_ == State::closing) return;
    if (cmd) {
        ++run_.stats.connection_errors;
        run_.error(index_, cmd, what);
    }
    // The mix reconnects after a pause until its window ends; the other modes give up.
    if (run_.opts.mode == Mode::mix && !run_.stopping) {
        retry_ = true;
    } else {
        done_ = true;
        if (in_setup_) ++run_.failed;
    }
    close();
}

void Client::close() {
    if (state_ == State::closed || state_ == State::closing || !handle_open_) return;
    state_ = State::closing;
    idling_ = false;
    uv_timer_stop(&timer_);
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
}

void Client::on_closed(uv_handle_t* h) {
    auto* c = static_cast<Client*>(h->data);
    c->handle_open_ = false;
    c->state_ = State::closed;
    c->tls_.reset();
    if (c->in_setup_ && c->done_) {
        c->in_setup_ = false;
        c->run_.setup_ended();
    }
    if (c->retry_ && !c->run_.stopping) {
        uv_timer_start(&c->timer_, on_timer, 500, 0);
        return;
    }
}

}  // namespace imap_load
