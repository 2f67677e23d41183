#include "libproto/imap/imap_parser.h"

#include <algorithm>

#include "libproto/core/ascii.h"
#include "libproto/core/secret.h"
#include "libproto/imap/imap_args.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {
namespace {

// Longest literal marker kept while discarding: "~{" + 19 digits + "+}".
constexpr size_t tail_keep = 32;

struct Marker {
    uint64_t size = 0;
    bool sync = true;
    bool binary = false;
    bool oversized = false;  // more digits than any size we could skip
    size_t at = 0;           // where "{" or "~{" starts
};

// A literal marker ending `line` ("{n}", "{n+}", "~{n}").
std::optional<Marker> literal_marker(std::string_view line) {
    if (line.empty() || line.back() != '}') return std::nullopt;
    size_t i = line.size() - 1;
    Marker m;
    if (i > 0 && line[i - 1] == '+') {
        m.sync = false;
        --i;
    }
    size_t digits_end = i;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') --i;
    size_t ndigits = digits_end - i;
    if (ndigits == 0 || i == 0 || line[i - 1] != '{') return std::nullopt;
    if (ndigits > 19) {
        m.oversized = true;
    } else {
        for (size_t k = i; k < digits_end; ++k) m.size = m.size * 10 + uint64_t(line[k] - '0');
    }
    m.at = i - 1;
    if (m.at > 0 && line[m.at - 1] == '~') {
        m.binary = true;
        --m.at;
    }
    return m;
}

ImapParseError error(ImapBadReason r, std::string_view text, ImapCommandId id) {
    return ImapParseError{r, text, id};
}

}  // namespace

ImapParser::~ImapParser() { wipe(cmd_); }

void ImapParser::feed(std::string_view bytes) {
    if (in_.empty()) {
        own_.clear();
        in_ = bytes;
        return;
    }
    std::string joined;
    joined.reserve(in_.size() + bytes.size());
    joined.append(in_).append(bytes);
    own_.swap(joined);
    in_ = own_;
}

void ImapParser::clear_input() {
    in_ = {};
    own_.clear();
    reset_command();
    state_ = State::line;
    mode_ = Mode::command;
    pending_message_.reset();
    pending_bad_.reset();
    refusable_ = false;
}

std::string ImapParser::take_input() {
    std::string rest(in_);
    clear_input();
    return rest;
}

void ImapParser::expect_done() { mode_ = Mode::idle; }
void ImapParser::expect_sasl_response() { mode_ = Mode::sasl; }

void ImapParser::reset_command() {
    wipe(cmd_);
    tail_.clear();
    line_start_ = 0;
    line_bytes_ = 0;
    literal_left_ = 0;
    in_quote_ = escape_ = false;
    discard_ = false;
    discard_tag_.clear();
    append_begun_ = false;
    append_tag_.clear();
    append_close_paren_ = false;
}

ImapBad ImapParser::make_bad(ImapParseError e) {
    ImapBad b;
    b.reason = e.reason;
    b.text = e.text;
    b.id = e.id;
    if (append_begun_) {
        b.tag = append_tag_;
        b.id = ImapCommandId::append;
    } else if (discard_) {
        b.tag = discard_tag_;
    } else {
        b.tag.assign(imap_peek_tag(cmd_));
    }
    return b;
}

void ImapParser::start_discard(ImapParseError e) { start_discard(e, cmd_); }

void ImapParser::start_discard(ImapParseError e, std::string_view head_for_tag) {
    if (discard_) return;
    if (append_begun_) {
        discard_tag_ = append_tag_;
    } else {
        // Only a tag the line limit leaves whole, followed by its SP, whatever the chunking.
        std::string_view head = head_for_tag.substr(
            0, std::min({limits_.line_max + 1, limits_.command_max + 1, size_t(300)}));
        std::string_view tag = imap_peek_tag(head);
        discard_tag_.assign(tag.size() < head.size() ? tag : std::string_view());
    }
    if (append_begun_) e.id = ImapCommandId::append;
    discard_error_ = e;
    discard_ = true;
    // The current line's end so far: a literal marker may still end it.
    size_t from = std::max(line_start_, cmd_.size() > tail_keep ? cmd_.size() - tail_keep : 0);
    tail_.assign(from < cmd_.size() ? std::string_view(cmd_).substr(from) : std::string_view());
    wipe(cmd_);
}

std::optional<ImapEvent> ImapParser::reject(ImapParseError e, bool skip_rest, uint64_t skip_bytes) {
    if (!skip_rest) {
        // A synchronizing literal: the client waits for "+", which never comes.
        ImapBad b = make_bad(e);
        reset_command();
        state_ = State::line;
        return ImapEvent(std::move(b));
    }
    start_discard(e);
    tail_.clear();  // the marker's line is over; the literal comes next
    literal_left_ = skip_bytes;
    state_ = State::literal;
    return std::nullopt;
}

void ImapParser::add_line_bytes(std::string_view seg) {
    if (mode_ == Mode::command) {
        for (char c : seg) {
            if (in_quote_) {
                if (escape_) {
                    escape_ = false;
                } else if (c == '\\') {
                    escape_ = true;
                } else if (c == '"') {
                    in_quote_ = false;
                }
            } else if (c == '"') {
                in_quote_ = true;
            }
        }
    }
    if (!discard_) {
        size_t line_room = limits_.line_max - std::min(line_bytes_, limits_.line_max);
        size_t cmd_room = limits_.command_max - std::min(cmd_.size(), limits_.command_max);
        if (seg.size() <= line_room && seg.size() <= cmd_room) {
            line_bytes_ += seg.size();
            cmd_.append(seg);
            return;
        }
        // The limit a byte-by-byte feed would hit first, so the answer never depends on how
        // the input was split. The tag and name are at the start of cmd_, or of seg when
        // cmd_ is (nearly) empty: look at the same bytes however the input came, no more
        // than either limit lets in and no more than a tag and a name can take.
        bool line_first = line_room <= cmd_room;
        size_t cap = std::min({limits_.line_max + 1, limits_.command_max + 1, size_t(300)});
        std::string head = cmd_.substr(0, cap);
        head.append(seg.substr(0, cap - head.size()));
        ImapCommandId id = imap_peek_command(head);
        start_discard(line_first ? error(ImapBadReason::line_too_long, "command line too long", id)
                                 : error(ImapBadReason::command_too_big, "command too big", id),
                      head);
    }
    // Discarding: keep just enough of the line's end to see a literal marker.
    if (seg.size() >= tail_keep) {
        tail_.assign(seg.substr(seg.size() - tail_keep));
    } else {
        tail_.append(seg);
        if (tail_.size() > tail_keep) tail_.erase(0, tail_.size() - tail_keep);
    }
}

ImapEvent ImapParser::next() {
    refusable_ = false;
    if (pending_bad_) {
        ImapBad b = std::move(*pending_bad_);
        pending_bad_.reset();
        return b;
    }
    if (pending_message_) {
        ImapAppendMessage m = std::move(*pending_message_);
        pending_message_.reset();
        refusable_ = true;
        refusable_sync_ = m.synchronizing;
        return m;
    }
    for (;;) {
        switch (state_) {
        case State::literal: {
            if (literal_left_ > 0) {
                if (in_.empty()) return ImapNeedMore{};
                size_t k = size_t(std::min<uint64_t>(literal_left_, in_.size()));
                if (!discard_) cmd_.append(in_.substr(0, k));
                consume(k);
                literal_left_ -= k;
                if (literal_left_ > 0) continue;
            }
            state_ = State::line;
            in_quote_ = escape_ = false;
            line_start_ = cmd_.size();
            continue;
        }
        case State::append_data: {
            if (literal_left_ == 0) {
                state_ = State::line;
                in_quote_ = escape_ = false;
                continue;
            }
            if (in_.empty()) return ImapNeedMore{};
            size_t k = size_t(std::min<uint64_t>(literal_left_, in_.size()));
            std::string_view chunk = in_.substr(0, k);
            consume(k);
            literal_left_ -= k;
            return ImapAppendData{chunk};
        }
        case State::line: {
            if (in_.empty()) return ImapNeedMore{};
            size_t lf = in_.find('\n');
            if (lf == std::string_view::npos) {
                add_line_bytes(in_);
                consume(in_.size());
                continue;
            }
            add_line_bytes(in_.substr(0, lf));
            consume(lf + 1);
            if (auto ev = end_of_line()) return std::move(*ev);
            continue;
        }
        }
    }
}

std::optional<ImapEvent> ImapParser::one_line_mode() {
    Mode m = mode_;
    mode_ = Mode::command;
    ImapCommandId id = m == Mode::idle ? ImapCommandId::idle : ImapCommandId::authenticate;
    if (discard_) {
        ImapBad b{"", discard_error_.reason, discard_error_.text, id};
        reset_command();
        return ImapEvent(std::move(b));
    }
    std::string_view line = cmd_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::optional<ImapEvent> ev;
    if (m == Mode::idle) {
        if (iequals(line, "DONE")) {
            ev = ImapIdleDone{};
        } else {
            ev = ImapBad{"", ImapBadReason::syntax, "expected DONE", id};
        }
    } else if (line == "*") {
        ev = ImapSaslCancel{};
    } else {
        ev = ImapSaslResponse{std::string(line)};
    }
    reset_command();
    return ev;
}

std::optional<ImapEvent> ImapParser::end_of_line() {
    if (mode_ != Mode::command) return one_line_mode();
    std::string& text = discard_ ? tail_ : cmd_;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    std::optional<Marker> m = in_quote_ ? std::nullopt : literal_marker(text);
    in_quote_ = escape_ = false;
    if (!m) return on_command_end();
    if (discard_) {
        tail_.clear();
        if (m->sync || m->oversized) return reject(discard_error_, false, 0);
        literal_left_ = m->size;
        state_ = State::literal;
        return std::nullopt;
    }
    if (m->oversized)
        return reject(error(ImapBadReason::literal_too_big, "literal too big",
                            append_begun_ ? ImapCommandId::append : imap_peek_command(cmd_)),
                      false, 0);
    bool is_append = append_begun_ || imap_peek_command(cmd_) == ImapCommandId::append;
    if (is_append) return on_append_literal(m->size, m->sync, m->binary, m->at);
    return on_literal(m->size, m->sync, m->binary, m->at);
}

std::optional<ImapEvent> ImapParser::on_literal(uint64_t size, bool sync, bool binary,
                                                size_t marker_at) {
    (void)binary;  // framed either way; the command parser accepts literal8 only in APPEND
    (void)marker_at;
    ImapCommandId id = imap_peek_command(cmd_);
    if (id == ImapCommandId::unknown) {
        bool tagged = !imap_peek_tag(cmd_).empty();
        return reject(error(tagged ? ImapBadReason::unknown_command : ImapBadReason::syntax,
                            tagged ? "unknown command" : "bad tag", id),
                      !sync, size);
    }
    if (size > limits_.literal_max || cmd_.size() + 2 + size > limits_.command_max)
        return reject(error(ImapBadReason::literal_too_big, "literal too big", id), !sync, size);
    cmd_.append("\r\n");
    literal_left_ = size;
    state_ = State::literal;
    refusable_ = true;
    refusable_sync_ = sync;
    return ImapEvent(ImapNeedLiteral{size, sync});
}

std::optional<ImapEvent> ImapParser::on_append_literal(uint64_t size, bool sync, bool binary,
                                                       size_t marker_at) {
    using Id = ImapCommandId;
    ImapLexer lx(cmd_);
    std::string mailbox;
    if (!append_begun_) {
        std::string_view tag, name;
        if (!lx.tag(tag) || !lx.sp() || !lx.atom(name) || !lx.sp())
            return reject(error(ImapBadReason::syntax, "bad APPEND", Id::append), !sync, size);
        if (lx.pos() == marker_at) {
            // The mailbox name itself is this literal.
            if (binary)
                return reject(error(ImapBadReason::syntax, "literal8 mailbox name", Id::append),
                              !sync, size);
            return on_literal(size, sync, binary, marker_at);
        }
        if (!parse_mailbox(lx, mailbox))
            return reject(error(ImapBadReason::syntax, "bad mailbox name", Id::append), !sync,
                          size);
    }
    AppendHead head;
    bool closed = !append_begun_ || !append_close_paren_ || lx.eat(')');
    if (!closed || !parse_append_head(lx, head, limits_.list_items_max) || lx.pos() != marker_at) {
        ImapBadReason r = lx.limit_exceeded() ? ImapBadReason::limit : ImapBadReason::syntax;
        std::string_view text = lx.error().empty() ? std::string_view("bad APPEND") : lx.error();
        return reject(error(r, text, Id::append), !sync, size);
    }
    if (size > limits_.append_max)
        return reject(error(ImapBadReason::literal_too_big, "message too big", Id::append), !sync,
                      size);
    ImapAppendMessage msg{std::move(head.flags), head.internal_date, size, binary, sync, head.utf8};
    append_close_paren_ = head.utf8;
    std::optional<ImapEvent> ev;
    if (!append_begun_) {
        ImapAppendBegin begin{std::string(imap_peek_tag(cmd_)), std::move(mailbox)};
        append_tag_ = begin.tag;
        append_begun_ = true;
        pending_message_ = std::move(msg);
        ev = std::move(begin);
    } else {
        refusable_ = true;
        refusable_sync_ = sync;
        ev = std::move(msg);
    }
    // The message streams; what follows it is a new line of the same command.
    wipe(cmd_);
    line_start_ = 0;
    line_bytes_ = 0;
    literal_left_ = size;
    state_ = State::append_data;
    return ev;
}

std::optional<ImapEvent> ImapParser::on_command_end() {
    if (discard_) {
        ImapBad b = make_bad(discard_error_);
        reset_command();
        return ImapEvent(std::move(b));
    }
    if (append_begun_) {
        std::optional<ImapEvent> ev;
        if (cmd_ == (append_close_paren_ ? ")" : "")) {
            ev = ImapAppendEnd{};
        } else {
            ev = make_bad(error(ImapBadReason::syntax, "bad APPEND", ImapCommandId::append));
        }
        reset_command();
        return ev;
    }
    if (cmd_.empty()) {
        reset_command();  // an empty line: nothing to answer
        return std::nullopt;
    }
    auto parsed = parse_imap_command(cmd_, limits_);
    std::optional<ImapEvent> ev;
    if (parsed) {
        ev = std::move(*parsed);
    } else {
        ev = make_bad(parsed.error());
    }
    reset_command();
    return ev;
}

void ImapParser::refuse_literal() {
    if (!refusable_) return;
    refusable_ = false;
    ImapCommandId id = append_begun_ ? ImapCommandId::append : imap_peek_command(cmd_);
    ImapParseError e = error(ImapBadReason::refused, "literal refused", id);
    pending_message_.reset();
    if (refusable_sync_) {
        pending_bad_ = make_bad(e);
        reset_command();
        state_ = State::line;
        return;
    }
    // Non-synchronizing: the bytes are on their way; skip them and the rest of the command.
    uint64_t left = literal_left_;
    start_discard(e);
    tail_.clear();
    literal_left_ = left;
    state_ = State::literal;
}

}  // namespace postern
