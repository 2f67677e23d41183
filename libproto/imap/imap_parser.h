#pragma once
// The streaming IMAP command parser (RFC 3501 / 9051 with LITERAL+ / LITERAL- (RFC 7888),
// BINARY literal8 (RFC 3516), MULTIAPPEND (RFC 3502), CONDSTORE/QRESYNC (RFC 7162),
// LIST-EXTENDED (RFC 5258), ESEARCH (RFC 4731), SORT/THREAD (RFC 5256), IDLE, SASL-IR).
// Pure: bytes in, events out; no sockets, no clock, no store.
//
// API overview (the session's loop):
//
//     parser.feed(bytes);                  // bytes stay valid until next() says NeedMore
//     for (;;) {
//         ImapEvent ev = parser.next();
//         NeedMore          -> read more from the connection, feed, loop
//         NeedLiteral       -> synchronizing: send "+ Ready" (or call refuse_literal() and
//                              let next() return the Bad); non-synchronizing: nothing to do
//         ImapCommand       -> a complete typed command (imap_command.h); gate it with the
//                              command table (imap_command_table.h)
//         ImapBad           -> "tag BAD text" (or "* BAD" when the tag is empty; NO [TOOBIG]
//                              for an APPEND literal_too_big); the parser has already
//                              resynchronised at the next command
//         ImapAppendBegin   -> APPEND/MULTIAPPEND to `mailbox` starts (open a transaction)
//         ImapAppendMessage -> a message follows: flags, date, size, literal8 or not. For a
//                              synchronizing literal send "+ Ready", or refuse_literal()
//                              (quota, APPENDLIMIT): next() then gives the Bad
//         ImapAppendData    -> a piece of the message (a view into the fed bytes: copy or
//                              write it before calling next() or feed() again)
//         ImapAppendEnd     -> all messages received: commit, reply tagged OK
//                              (an ImapBad after ImapAppendBegin ends the APPEND instead:
//                              drop everything it delivered so far)
//         ImapIdleDone      -> only in expect_done() mode
//         ImapSaslResponse / ImapSaslCancel -> only in expect_sasl_response() mode
//     }
//
// After IDLE the session calls expect_done(): the next line must be "DONE" (any case);
// anything else gives an ImapBad. During AUTHENTICATE, expect_sasl_response() before each
// continuation: the next line comes back raw (base64, not decoded) or as a cancel ("*").
// Both modes last one line.
//
// Limits (imap_limits.h) bound memory: a command is buffered up to line_max bytes of line
// plus literal_max per literal and command_max in all; APPEND messages are never buffered.
// Over a limit the parser answers ImapBad and skips the command exactly: a synchronizing
// literal the server refused is never sent by the client, a non-synchronizing one is read
// and dropped byte by byte, so the stream stays in step.
//
// Secrets: the parser's command buffer is wiped after every command; the strings in a
// returned ImapLogin / ImapAuthenticate / ImapSaslResponse are the session's to wipe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libproto/imap/imap_command.h"
#include "libproto/imap/imap_command_parse.h"
#include "libproto/imap/imap_limits.h"

namespace postern {

struct ImapNeedMore {};
struct ImapNeedLiteral {
    uint64_t size = 0;
    bool synchronizing = true;
};
struct ImapBad {
    std::string tag;  // empty when the command had no valid tag
    ImapBadReason reason = ImapBadReason::syntax;
    std::string_view text;  // static
    ImapCommandId id = ImapCommandId::unknown;
};
struct ImapAppendBegin {
    std::string tag;
    std::string mailbox;  // as parse_mailbox gives it
};
struct ImapAppendMessage {
    std::vector<std::string> flags;
    std::optional<ImapDateTime> internal_date;
    uint64_t size = 0;
    bool binary = false;  // literal8 (~{n}): may contain NUL, no content transfer encoding
    bool synchronizing = true;
    bool utf8 = false;  // the UTF8 (literal8) data item of RFC 6855 4
};
struct ImapAppendData {
    std::string_view bytes;  // into the fed input; valid until the next next() / feed()
};
struct ImapAppendEnd {};
struct ImapIdleDone {};
struct ImapSaslResponse {
    std::string line;  // without CRLF, not decoded
};
struct ImapSaslCancel {};

using ImapEvent = std::variant<ImapNeedMore, ImapNeedLiteral, ImapCommand, ImapBad, ImapAppendBegin,
                               ImapAppendMessage, ImapAppendData, ImapAppendEnd, ImapIdleDone,
                               ImapSaslResponse, ImapSaslCancel>;

class ImapParser {
public:
    explicit ImapParser(const ImapParserLimits& limits = {}) : limits_(limits) {}
    ~ImapParser();
    ImapParser(const ImapParser&) = delete;
    ImapParser& operator=(const ImapParser&) = delete;

    // Adds input. Without a copy when all earlier input was consumed (next() returned
    // NeedMore); otherwise the unconsumed rest and `bytes` are copied together.
    void feed(std::string_view bytes);
    // The next event; NeedMore when all input is consumed.
    ImapEvent next();

    // Right after NeedLiteral or AppendMessage: the server does not take this literal. The
    // command is dropped (a non-synchronizing literal's bytes are skipped) and next() gives
    // ImapBad{reason refused}. Ignored at any other time.
    void refuse_literal();

    // One-line modes (see above).
    void expect_done();
    void expect_sasl_response();

    // APPENDLIMIT for the next APPEND messages (e.g. from the free quota).
    void set_append_limit(uint64_t bytes) { limits_.append_max = bytes; }
    const ImapParserLimits& limits() const { return limits_; }

    // Unconsumed input bytes (STARTTLS: pipelined plaintext must be dropped).
    size_t pending_bytes() const { return in_.size(); }
    // Drops unconsumed input and any partial command.
    void clear_input();
    // clear_input(), returning the unconsumed bytes (COMPRESS: what the client sent after
    // the command is compressed and goes back through the inflater).
    std::string take_input();

private:
    enum class State : uint8_t { line, literal, append_data };
    enum class Mode : uint8_t { command, idle, sasl };

    void consume(size_t n) { in_.remove_prefix(n); }
    void add_line_bytes(std::string_view seg);
    std::optional<ImapEvent> end_of_line();
    std::optional<ImapEvent> on_literal(uint64_t size, bool sync, bool binary, size_t marker_at);
    std::optional<ImapEvent> on_append_literal(uint64_t size, bool sync, bool binary,
                                               size_t marker_at);
    std::optional<ImapEvent> on_command_end();
    std::optional<ImapEvent> one_line_mode();
    // The command cannot go on: `e` now (sync literal: the client waits) or after skipping.
    std::optional<ImapEvent> reject(ImapParseError e, bool skip_rest, uint64_t skip_bytes);
    void start_discard(ImapParseError e);
    void start_discard(ImapParseError e, std::string_view head_for_tag);
    ImapBad make_bad(ImapParseError e);
    void reset_command();

    ImapParserLimits limits_;
    std::string_view in_;
    std::string own_;  // holds input only when feed() came before all was consumed

    State state_ = State::line;
    Mode mode_ = Mode::command;
    std::string cmd_;        // the framed command so far (or APPEND's line after a message)
    std::string tail_;       // the end of the current line while discarding
    size_t line_start_ = 0;  // where the current line starts in cmd_
    size_t line_bytes_ = 0;
    uint64_t literal_left_ = 0;
    bool in_quote_ = false;
    bool escape_ = false;

    // Discarding: the rest of the command is skipped, then `discard_error_` is reported.
    bool discard_ = false;
    ImapParseError discard_error_;
    std::string discard_tag_;

    // APPEND after ImapAppendBegin.
    bool append_begun_ = false;
    std::string append_tag_;
    std::optional<ImapAppendMessage> pending_message_;
    bool append_close_paren_ = false;  // the last message was "UTF8 (~{n}": ")" follows

    // refuse_literal() applies to the literal just announced.
    bool refusable_ = false;
    bool refusable_sync_ = false;
    std::optional<ImapBad> pending_bad_;
};

}  // namespace postern
