#pragma once
// What an ImapSession needs of its connection. imap_connection.cc implements it over a
// libproto/net Connection; the session tests implement it in memory. The session never
// touches a socket, a loop or a clock itself.

#include <cstdint>
#include <string_view>

namespace postern {

class ImapTransport {
public:
    virtual ~ImapTransport() = default;
    // Queues bytes for the client (the session adds CR LF).
    virtual void write(std::string_view bytes) = 0;
    // True while queued output is above the high-water mark: a streaming command should
    // stop producing and continue from ImapSession::on_drain().
    virtual bool output_full() const = 0;
    // No input is wanted until resume_reading() (a command is in progress); bytes already
    // received may still arrive and are kept by the session.
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    // Flushes what was written, then closes. The session calls nothing afterwards.
    virtual void close() = 0;
    // STARTTLS, right after the tagged OK was written: every byte received after the
    // command is dropped; ImapSession::on_tls_ready() follows the handshake. False when
    // TLS cannot start (the session then closes).
    virtual bool start_tls() = 0;
    virtual bool is_tls() const = 0;
    // COMPRESS=DEFLATE (RFC 4978), right after the tagged OK was written: from then on both
    // directions are compressed; `received` are the bytes the session already had after
    // the command (the client sent them compressed). False when it cannot start (the
    // session then closes).
    virtual bool start_compression(std::string_view received) = 0;
    virtual bool compression_active() const = 0;
    // A TLS context is configured (STARTTLS may be offered).
    virtual bool tls_available() const = 0;
    // One timer per session: ImapSession::timer_fired() after `ms` (failed-login delays).
    // A new call replaces the pending one.
    virtual void start_timer(uint32_t ms) = 0;
};

}  // namespace postern
