#pragma once
// One TCP connection, optionally TLS, driven by the process's uv loop.
//
// Ownership: a Connection owns itself (it lives until its uv handle is closed)
// and owns its ConnectionHandler (the protocol session). The handler may keep
// a Connection& for its whole life: the Connection outlives it. Nothing is
// ever deleted during a callback: close() only starts the close, and the
// objects are freed from the uv close callback on a later loop iteration.
// Async work a session starts (DNS, store) must be cancelled in the
// session's destructor.
//
// Input: bytes -> (TLS) -> (inflate) -> LineReader -> handler.on_line / on_raw.
// Output: write() -> (deflate) -> (TLS) -> queued bytes; they are sent in
// one uv_write per loop turn (a deflate batch ends with a sync flush first).
// Compression (IMAP COMPRESS, RFC 4978) sits above TLS: deflate, then encrypt.
// Compressed input is inflated 16 KiB at a time and only when the line reader
// has been drained, so a zip bomb costs no more memory than normal input.
// Above the high-water mark the connection stops reading (so a pipelining
// client cannot make us buffer unbounded replies) and resumes, calling
// on_drain, once output falls below the low-water mark.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>
#include <uv.h>

#include "libproto/core/line_reader.h"
#include "libproto/net/tls.h"

namespace postern {

class Connection;
class Deflater;  // deflate_stream.h
class Inflater;

enum class CloseReason : uint8_t {
    local,           // close()/abort() was called
    peer,            // the peer closed (EOF or TLS close_notify)
    error,           // socket error (reset, ...)
    tls_error,       // TLS handshake or record error
    timeout,         // idle timer fired and the handler did not override on_timeout
    overflow,        // the line buffer limit was exceeded (input not drained)
    compress_error,  // compressed input that does not inflate, or a zlib failure
};
const char* close_reason_text(CloseReason r);

struct PeerAddress {
    std::string ip;  // "192.0.2.1", "2001:db8::1" (IPv4-mapped shown as IPv4)
    int family = 0;  // AF_INET or AF_INET6
    uint16_t port = 0;
};

// The protocol session. Callbacks are invoked from the loop; they must not
// throw. After on_close returns the handler is destroyed.
class ConnectionHandler {
public:
    virtual ~ConnectionHandler() = default;
    // Ready for the protocol: send the greeting. For implicit TLS this comes
    // after the handshake.
    virtual void on_open(Connection& c) = 0;
    // A complete line, without its CR LF. `line` is valid only during the call.
    virtual void on_line(Connection& c, std::string_view line, LineEnd end) = 0;
    // A line longer than the limit was skipped; default: nothing.
    virtual void on_line_too_long(Connection&) {}
    // A chunk of the bytes requested by Connection::read_raw(); `last` on the final one.
    virtual void on_raw(Connection&, std::string_view /*bytes*/, bool /*last*/) {}
    // The STARTTLS handshake finished (reset the session per RFC 3207 / 2595).
    virtual void on_tls_ready(Connection&) {}
    // Pending output fell below the low-water mark after having been above it
    // (a paused FETCH or DATA reply stream can continue).
    virtual void on_drain(Connection&) {}
    // The idle timer fired. Default: close(CloseReason::timeout) without a word;
    // override to send "421 timeout" / "* BYE" and then close().
    virtual void on_timeout(Connection& c);
    // The daemon is shutting down. Default: close(). Override to say goodbye
    // (SMTP 421, IMAP * BYE); the session has shutdown_grace_seconds.
    virtual void on_shutdown(Connection& c);
    // The last callback. The connection is already closed for I/O.
    virtual void on_close(Connection&, CloseReason) {}
};

using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;

struct ConnectionOptions {
    LineReaderLimits lines{};
    size_t high_water = 256 * 1024;  // pending output that pauses reading
    size_t low_water = 64 * 1024;    // ... and resumes it (with on_drain)
    // The idle timer restarts on progress only: a complete line, raw bytes in
    // steps of raw_progress_bytes, or output the peer took. Bytes that do not
    // finish a line never extend it, so a client trickling a command one byte
    // at a time gets at most this long for the whole line (slowloris).
    uint64_t idle_timeout_ms = 300'000;  // 0: none
    // Wall-clock limit on a TLS handshake (implicit or STARTTLS), whatever the
    // peer sends meanwhile; never more than idle_timeout_ms. 0: only the idle timeout.
    uint64_t handshake_timeout_ms = 30'000;
    uint64_t close_flush_timeout_ms = 10'000;  // close(): give up flushing after this
    size_t raw_progress_bytes = 512;           // read_raw() bytes that count as progress
};

class Connection {
public:
    // Takes an accepted (or connected) uv_tcp_t allocated with new; the
    // Connection closes and deletes it. `tls` non-null: implicit TLS as a
    // server (`client` false) or client. Starts reading and calls
    // factory(*this) then on_open (at once, or after the TLS handshake).
    static Connection* adopt(uv_tcp_t* tcp, const HandlerFactory& factory,
                             const ConnectionOptions& opts, SSL_CTX* tls = nullptr,
                             bool client = false, const std::string& sni = {});

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // --- output ---
    // Queues bytes for the peer (the caller adds CR LF). Ignored once closing.
    void write(std::string_view bytes);
    size_t pending_output() const { return out_.size() + inflight_.size(); }
    bool output_blocked() const { return out_blocked_; }

    // --- input ---
    // Stops delivering lines (and reading) until resume_reading(), e.g. while
    // a session waits for a DNS or store answer. Buffered lines stay queued.
    void pause_reading();
    void resume_reading();
    // The next `count` bytes go to on_raw instead of on_line.
    void read_raw(uint64_t count) { reader_.read_raw(count); }
    void set_line_limits(LineReaderLimits l) { reader_.set_limits(l); }
    // The line just handed to on_line held a credential: zero it and every stale copy in
    // the input buffer (LineReader::wipe_consumed). Call when done with the line.
    void wipe_consumed_input() { reader_.wipe_consumed(); }
    std::string_view input_buffer_for_tests() const { return reader_.raw_buffer_for_tests(); }

    // --- TLS ---
    // STARTTLS. Call right after writing the "ready to start TLS" reply: every
    // byte already received after the command line is DISCARDED (CVE-2011-0411
    // class injection), the reply is sent in plaintext, then the handshake
    // runs; on success on_tls_ready, on failure close with tls_error.
    // `client`: we are the client (spoold) and `sni` names the server.
    // Returns false if TLS is already on or ctx is null.
    bool start_tls(SSL_CTX* ctx, bool client = false, const std::string& sni = {});
    bool is_tls() const { return ssl_ != nullptr && handshake_done_; }
    std::string tls_version() const;  // "TLSv1.3", empty without TLS
    std::string tls_cipher() const;   // "TLS_AES_256_GCM_SHA384"
    SSL* ssl() const { return ssl_.get(); }

    // --- compression (RFC 4978 COMPRESS=DEFLATE) ---
    // Call right after writing the reply that turns it on: that reply goes out as it is;
    // every later write() is deflated (then encrypted under TLS), and every byte received
    // from now on is inflated before the line reader sees it, starting with `received`
    // (bytes the handler took but had not used: the peer sent them compressed), then the
    // bytes the line reader still holds. False when already on, closing, or zlib fails.
    bool start_compression(std::string_view received);
    bool compressing() const { return deflater_ != nullptr; }

    // --- lifetime ---
    // Flushes pending output (and a TLS close_notify), then closes. Idempotent.
    void close(CloseReason why = CloseReason::local);
    // Closes at once, dropping pending output.
    void abort(CloseReason why = CloseReason::local);
    bool closing() const { return closing_; }

    // --- timers ---
    // The idle timer restarts on progress (see ConnectionOptions::idle_timeout_ms);
    // sessions may also reset it. During a TLS handshake only the handshake
    // deadline runs.
    void set_idle_timeout(uint64_t ms);
    void reset_idle_timer();

    // --- identity ---
    const PeerAddress& peer() const { return peer_; }
    const PeerAddress& local() const { return local_; }
    uint64_t id() const { return id_; }  // process-unique
    uv_loop_t* loop() const;
    ConnectionHandler* handler() const { return handler_.get(); }

    // Called by the listener on shutdown: forwards to handler.on_shutdown.
    void notify_shutdown();
    // Called once, right before the handler is destroyed (listener bookkeeping).
    std::function<void(Connection&)> on_destroy;

private:
    Connection(uv_tcp_t* tcp, const ConnectionOptions& opts);
    ~Connection();

    struct Guard;  // counts nested callbacks; the last one out flushes
    void start(const HandlerFactory& factory, SSL_CTX* tls, bool client, const std::string& sni);
    void update_reading();
    void on_read(ssize_t n, const uv_buf_t* buf);
    void feed(const char* data, size_t n);
    void dispatch();
    void after_callbacks();
    void flush();
    void on_written(int status);
    void finish_close();
    void final_cleanup();
    void check_blocked();
    // TLS (connection_tls.cc)
    bool tls_setup(SSL_CTX* ctx, bool client, const std::string& sni);
    void on_ciphertext(const char* data, size_t n);
    void tls_write(std::string_view bytes);
    void drain_tls_output();
    void after_handshake();
    void start_handshake_timer();
    // compression (connection_deflate.cc)
    void send_wire(std::string_view bytes);  // to TLS or the output queue
    void deflate_write(std::string_view plain);
    void deflate_flush();
    bool take_plain(std::string_view plain);  // from the socket or TLS: inflate or read
    bool inflate_some();                      // one chunk into the reader; false: none

    uv_tcp_t* tcp_;
    ConnectionOptions opts_;
    std::unique_ptr<ConnectionHandler> handler_;
    LineReader reader_;
    std::string out_;        // queued wire bytes (ciphertext under TLS)
    std::string inflight_;   // bytes owned by the current uv_write
    std::string tls_plain_;  // plaintext written before the handshake finished
    uv_write_t write_req_{};
    uv_shutdown_t shutdown_req_{};
    uv_timer_t* idle_ = nullptr;
    SslPtr ssl_;
    std::unique_ptr<Deflater> deflater_;  // both set by start_compression
    std::unique_ptr<Inflater> inflater_;
    std::string zin_;                // compressed input not yet inflated (at most one read's worth)
    std::string zbuf_;               // scratch for one deflate or inflate step (capacity kept)
    BIO* rbio_ = nullptr;            // owned by ssl_
    BIO* wbio_ = nullptr;            // owned by ssl_
    size_t raw_since_progress_ = 0;  // raw bytes delivered since the idle timer last restarted
    PeerAddress peer_;
    PeerAddress local_;
    uint64_t id_;
    CloseReason close_reason_ = CloseReason::local;
    int dispatch_depth_ = 0;
    bool opened_ = false;
    bool reading_ = false;
    bool user_paused_ = false;
    bool out_blocked_ = false;
    bool writing_ = false;
    bool handshake_done_ = false;
    bool starttls_ = false;       // handshake started by start_tls (on_tls_ready, not on_open)
    bool closing_ = false;        // close requested: no more input or writes
    bool eof_ = false;            // no more input from peer
    bool shut_ = false;           // uv_shutdown issued
    bool handle_closed_ = false;  // uv_close issued: no more I/O of any kind
    bool dispatching_ = false;    // inside dispatch()'s loop
};

// Outbound TCP (spoold). Connects to ip:port (a literal address), then behaves
// like an accepted connection (factory, on_open). On failure calls on_error
// with one line of text and creates no handler. `timeout_ms` bounds the connect.
void connect_tcp(uv_loop_t* loop, const std::string& ip, uint16_t port,
                 const ConnectionOptions& opts, HandlerFactory factory,
                 std::function<void(const std::string&)> on_error, uint64_t timeout_ms = 30'000);

// "ip" of a sockaddr, IPv4-mapped IPv6 shown as IPv4.
PeerAddress peer_from_sockaddr(const struct sockaddr* sa);

}  // namespace postern
