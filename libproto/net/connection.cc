#include "libproto/net/connection.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "libproto/core/log.h"
#include "libproto/net/deflate_stream.h"
#include "libproto/net/signals.h"
#include "libproto/net/uv_handle.h"

namespace postern {
namespace {

std::atomic<uint64_t> g_next_id{1};

// One loop per process and reads are consumed inside the read callback, so a
// single read buffer serves every connection (no 64 KiB per idle session).
char g_read_buf[64 * 1024];

uv_stream_t* stream(uv_tcp_t* t) { return reinterpret_cast<uv_stream_t*>(t); }
uv_handle_t* handle(void* h) { return static_cast<uv_handle_t*>(h); }

}  // namespace

const char* close_reason_text(CloseReason r) {
    switch (r) {
    case CloseReason::local: return "closed";
    case CloseReason::peer: return "peer closed";
    case CloseReason::error: return "socket error";
    case CloseReason::tls_error: return "TLS error";
    case CloseReason::timeout: return "timeout";
    case CloseReason::overflow: return "input overflow";
    case CloseReason::compress_error: return "compression error";
    }
    return "?";
}

void ConnectionHandler::on_timeout(Connection& c) { c.close(CloseReason::timeout); }
void ConnectionHandler::on_shutdown(Connection& c) { c.close(); }

struct Connection::Guard {
    Connection* c;
    explicit Guard(Connection* conn) : c(conn) { ++c->dispatch_depth_; }
    ~Guard() {
        if (--c->dispatch_depth_ == 0) c->after_callbacks();
    }
};

Connection::Connection(uv_tcp_t* tcp, const ConnectionOptions& opts)
    : tcp_(tcp), opts_(opts), reader_(opts.lines), id_(g_next_id++) {
    tcp_->data = this;
    idle_ = new uv_timer_t;
    uv_timer_init(tcp_->loop, idle_);
    idle_->data = this;
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getpeername(tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        peer_ = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
    len = sizeof ss;
    if (uv_tcp_getsockname(tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        local_ = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
    uv_tcp_nodelay(tcp_, 1);
}

Connection::~Connection() = default;

uv_loop_t* Connection::loop() const { return tcp_->loop; }

Connection* Connection::adopt(uv_tcp_t* tcp, const HandlerFactory& factory,
                              const ConnectionOptions& opts, SSL_CTX* tls, bool client,
                              const std::string& sni) {
    // A write to a reset socket must be EPIPE, not death (run_daemon does this
    // too; tests and tools that use Connection directly get it here).
    static const bool sigpipe_ignored = (ignore_sigpipe(), true);
    (void)sigpipe_ignored;
    auto* c = new Connection(tcp, opts);
    c->start(factory, tls, client, sni);
    return c;
}

void Connection::start(const HandlerFactory& factory, SSL_CTX* tls, bool client,
                       const std::string& sni) {
    Guard g(this);
    handler_ = factory ? factory(*this) : nullptr;
    if (!handler_) {
        abort(CloseReason::local);
        return;
    }
    set_idle_timeout(opts_.idle_timeout_ms);
    if (tls) {
        if (!tls_setup(tls, client, sni)) return;
    } else {
        opened_ = true;
        handler_->on_open(*this);
    }
    update_reading();
}

void Connection::update_reading() {
    bool want = !handle_closed_ && !closing_ && !eof_ && !user_paused_ && !out_blocked_;
    if (want == reading_) return;
    reading_ = want;
    if (!want) {
        uv_read_stop(stream(tcp_));
        return;
    }
    uv_read_start(
        stream(tcp_),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
            *buf = uv_buf_init(g_read_buf, sizeof g_read_buf);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            static_cast<Connection*>(s->data)->on_read(n, buf);
        });
}

void Connection::on_read(ssize_t n, const uv_buf_t* buf) {
    if (handle_closed_) return;
    Guard g(this);
    if (n > 0) {
        // No idle-timer restart here: bytes are not progress until they end a line.
        if (ssl_)
            on_ciphertext(buf->base, static_cast<size_t>(n));
        else
            feed(buf->base, static_cast<size_t>(n));
    } else if (n == UV_EOF) {
        eof_ = true;
        update_reading();
        dispatch();  // sees eof_ and closes once the buffered lines are handled
    } else if (n < 0) {
        abort(CloseReason::error);
    }
}

void Connection::feed(const char* data, size_t n) {
    if (!take_plain(std::string_view(data, n))) return;
    dispatch();
}

void Connection::dispatch() {
    if (dispatching_ || handle_closed_) return;  // the outer loop picks up new state
    Guard g(this);
    dispatching_ = true;
    bool drained = false;
    while (!closing_ && opened_ && !user_paused_ && !out_blocked_ && (!ssl_ || handshake_done_)) {
        auto ev = reader_.next();
        if (!ev) {
            // Compressed input is inflated only now, one chunk at a time, when the reader
            // has nothing left: what it buffers stays bounded whatever the ratio.
            if (inflate_some()) continue;
            drained = zin_.empty();
            break;
        }
        switch (ev->kind) {
        case LineEvent::Kind::line:
            reset_idle_timer();
            handler_->on_line(*this, ev->data, ev->end);
            break;
        case LineEvent::Kind::too_long:
            reset_idle_timer();
            handler_->on_line_too_long(*this);
            break;
        case LineEvent::Kind::raw:
            raw_since_progress_ += ev->data.size();
            if (ev->raw_last || raw_since_progress_ >= opts_.raw_progress_bytes) reset_idle_timer();
            handler_->on_raw(*this, ev->data, ev->raw_last);
            break;
        }
    }
    dispatching_ = false;
    // The peer is gone and nothing it sent is left to handle (a partial line
    // without LF is dropped): close after our replies are flushed.
    if (eof_ && !closing_ && (drained || !opened_ || (ssl_ && !handshake_done_)))
        close(CloseReason::peer);
}

void Connection::after_callbacks() {
    if (handle_closed_) return;
    flush();
    if (closing_ && !writing_ && out_.empty()) finish_close();
}

void Connection::write(std::string_view bytes) {
    if (handle_closed_ || closing_ || bytes.empty()) return;
    if (deflater_)
        deflate_write(bytes);
    else
        send_wire(bytes);
    check_blocked();
    if (dispatch_depth_ == 0) flush();
}

void Connection::check_blocked() {
    if (!out_blocked_ && pending_output() >= opts_.high_water) {
        out_blocked_ = true;
        update_reading();
    }
}

void Connection::flush() {
    if (handle_closed_) return;
    // The end of a batch: the peer must be able to decode every reply written so far.
    if (deflater_) deflate_flush();
    if (writing_ || out_.empty() || handle_closed_) return;
    inflight_.swap(out_);  // both keep their capacity: no allocation per write
    out_.clear();
    uv_buf_t b = uv_buf_init(inflight_.data(), static_cast<unsigned>(inflight_.size()));
    write_req_.data = this;
    int r = uv_write(&write_req_, stream(tcp_), &b, 1, [](uv_write_t* req, int status) {
        static_cast<Connection*>(req->data)->on_written(status);
    });
    if (r < 0) {
        abort(CloseReason::error);
        return;
    }
    writing_ = true;
}

void Connection::on_written(int status) {
    writing_ = false;
    inflight_.clear();
    if (handle_closed_) return;
    if (status < 0) {
        abort(CloseReason::error);
        return;
    }
    Guard g(this);
    reset_idle_timer();  // the peer is reading what we send (a long RETR or FETCH)
    if (out_blocked_ && pending_output() <= opts_.low_water) {
        out_blocked_ = false;
        update_reading();
        if (!closing_) {
            handler_->on_drain(*this);
            dispatch();
        }
    }
}

void Connection::pause_reading() {
    user_paused_ = true;
    update_reading();
}

void Connection::resume_reading() {
    if (!user_paused_) return;
    user_paused_ = false;
    update_reading();
    dispatch();
}

void Connection::close(CloseReason why) {
    if (closing_ || handle_closed_) return;
    closing_ = true;
    close_reason_ = why;
    update_reading();
    if (deflater_) deflate_flush();  // the last reply (* BYE) whole, before close_notify
    if (ssl_ && handshake_done_ && !handle_closed_) {
        SSL_shutdown(ssl_.get());  // queue our close_notify; we do not wait for theirs
        drain_tls_output();
    }
    // A peer that never reads must not keep us forever.
    uv_timer_start(
        idle_,
        [](uv_timer_t* t) {
            if (auto* c = static_cast<Connection*>(t->data)) c->abort(c->close_reason_);
        },
        opts_.close_flush_timeout_ms, 0);
    if (dispatch_depth_ == 0) after_callbacks();
}

void Connection::finish_close() {
    if (shut_ || handle_closed_) return;
    shut_ = true;
    shutdown_req_.data = this;
    int r = uv_shutdown(&shutdown_req_, stream(tcp_), [](uv_shutdown_t* req, int) {
        auto* c = static_cast<Connection*>(req->data);
        if (!c->handle_closed_) c->abort(c->close_reason_);
    });
    if (r < 0) abort(close_reason_);
}

void Connection::abort(CloseReason why) {
    if (handle_closed_) return;
    if (!closing_) close_reason_ = why;
    closing_ = true;
    handle_closed_ = true;
    uv_read_stop(stream(tcp_));
    reading_ = false;
    uv_timer_stop(idle_);
    // The handler is told and destroyed from the close callback, i.e. never
    // while one of its own callbacks is still on the stack.
    uv_close(handle(tcp_),
             [](uv_handle_t* h) { static_cast<Connection*>(h->data)->final_cleanup(); });
}

void Connection::final_cleanup() {
    idle_->data = nullptr;
    close_and_delete(idle_);
    if (on_destroy) on_destroy(*this);
    if (handler_) handler_->on_close(*this, close_reason_);
    handler_.reset();
    delete tcp_;
    delete this;
}

void Connection::set_idle_timeout(uint64_t ms) {
    opts_.idle_timeout_ms = ms;
    if (ms == 0 && !closing_ && !(ssl_ && !handshake_done_)) uv_timer_stop(idle_);
    reset_idle_timer();
}

void Connection::reset_idle_timer() {
    if (closing_ || handle_closed_) return;
    if (ssl_ && !handshake_done_ && opts_.handshake_timeout_ms) return;  // the deadline runs
    raw_since_progress_ = 0;
    if (opts_.idle_timeout_ms == 0) return;
    uv_timer_start(
        idle_,
        [](uv_timer_t* t) {
            auto* c = static_cast<Connection*>(t->data);
            if (!c || c->closing_ || !c->handler_) return;
            Guard g(c);
            c->handler_->on_timeout(*c);
        },
        opts_.idle_timeout_ms, 0);
}

void Connection::start_handshake_timer() {
    if (opts_.handshake_timeout_ms == 0 || closing_ || handle_closed_) return;
    // A handshake never gets longer than an idle client would.
    uint64_t ms = opts_.handshake_timeout_ms;
    if (opts_.idle_timeout_ms) ms = std::min(ms, opts_.idle_timeout_ms);
    uv_timer_start(
        idle_,
        [](uv_timer_t* t) {
            auto* c = static_cast<Connection*>(t->data);
            if (!c || c->closing_ || c->handshake_done_) return;
            log_msg(LogLevel::info, "connection %llu from %s: TLS handshake not finished in time",
                    static_cast<unsigned long long>(c->id_), c->peer_.ip.c_str());
            c->abort(CloseReason::timeout);
        },
        ms, 0);
}

void Connection::notify_shutdown() {
    if (closing_ || handle_closed_ || !handler_) return;
    Guard g(this);
    if (!opened_) {
        close();
        return;
    }
    handler_->on_shutdown(*this);
}

}  // namespace postern
