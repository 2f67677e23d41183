#include "imapd/imap_session.h"

#include "imapd/cmd_append.h"
#include "imapd/imap_commands.h"
#include "imapd/mailbox_name.h"
#include "imapd/selected_view.h"

namespace postern {
namespace {

std::string_view status_word(ImapResult s) {
    switch (s) {
    case ImapResult::ok: return "OK";
    case ImapResult::no: return "NO";
    case ImapResult::bad: return "BAD";
    }
    return "BAD";
}

uint8_t state_bit(const ImapState& s) {
    switch (s.index()) {
    case 0: return imap_state_not_authenticated;
    case 1: return imap_state_authenticated;
    case 2: return imap_state_selected;
    default: return imap_state_logout;
    }
}

// Why a command is not allowed in this state.
ImapRefusal state_refusal(const ImapState& s, uint8_t allowed) {
    if (std::holds_alternative<LoggedOut>(s)) return ImapRefusal::logging_out;
    if (std::holds_alternative<NotAuthenticated>(s)) return ImapRefusal::not_authenticated;
    if (allowed == imap_state_not_authenticated) return ImapRefusal::already_authenticated;
    return ImapRefusal::no_mailbox_selected;
}

}  // namespace

ImapSession::ImapSession(ImapBackend& backend, ImapTransport& transport, ImapSessionOptions opts,
                         const SessionLog* log)
    : backend_(backend), transport_(transport), opts_(std::move(opts)), log_(log),
      login_guard_(opts_.auth_budget, opts_.client_ip, log, opts_.auth_failure_delay_ms),
      parser_(opts_.limits) {
    parser_.set_append_limit(opts_.append_limit);
}

ImapSession::~ImapSession() = default;

const std::string* ImapSession::user() const {
    if (auto* a = std::get_if<Authenticated>(&state_)) return &a->user;
    if (auto* s = std::get_if<Selected>(&state_)) return &s->user;
    return nullptr;
}

std::optional<std::string> ImapSession::store_name(std::string_view client) const {
    return store_mailbox_name(client, enabled_.utf8_accept);
}

std::string ImapSession::client_name(std::string_view stored) const {
    return client_mailbox_name(stored, enabled_.utf8_accept);
}

ImapReply ImapSession::invalid_name_reply(std::string_view client) {
    if (mailbox_name_bad_utf8(client))
        return {ImapResult::bad, ImapCode::none, "Mailbox name is not valid UTF-8"};
    return {ImapResult::no, ImapCode::cannot, "Invalid mailbox name"};
}

void ImapSession::start() {
    out_.append("* OK [CAPABILITY ").append(capabilities()).append("] ");
    out_.append(opts_.hostname).append(" Postern IMAP ready\r\n");
    flush_output();
}

void ImapSession::on_input(std::string_view raw) {
    if (closed_) return;
    parser_.feed(raw);
    pump();
    // The parser may still point into `raw`, which dies when we return: make it copy.
    if (parser_.pending_bytes() > 0) parser_.feed({});
}

void ImapSession::on_drain() { pump(); }

void ImapSession::on_tls_ready() {
    // RFC 3501 6.2.1: the client must ask for CAPABILITY again; no greeting.
    pump();
}

void ImapSession::timer_fired() {
    if (!timer_wait_ || closed_) return;
    timer_wait_ = false;
    out_.append(delayed_);
    delayed_.clear();
    end_command();
    if (close_after_delay_) {
        close();
        return;
    }
    pump();
}

void ImapSession::idle_timeout() {
    if (closed_) return;
    out_.append("* BYE Autologout; idle for too long\r\n");
    close();
}

void ImapSession::shutdown() {
    if (closed_) return;
    out_.append("* BYE Server shutting down\r\n");
    close();
}

void ImapSession::close() {
    if (closed_) return;
    flush_output();
    closed_ = true;
    on_line_ = nullptr;
    on_change_ = nullptr;
    drain_cont_ = nullptr;
    state_ = LoggedOut{};  // lets the mailbox handle and any watch go
    append_.reset();       // an APPEND mid-literal: its staged messages are removed
    transport_.close();
}

void ImapSession::start_tls() {
    flush_output();
    parser_.clear_input();  // plaintext pipelined after STARTTLS is never a command
    if (!transport_.start_tls()) close();
}

void ImapSession::start_compression() {
    flush_output();  // the tagged OK goes out uncompressed
    if (!transport_.start_compression(parser_.take_input())) close();
}

bool ImapSession::busy() const {
    if (blocking_ || timer_wait_ || drain_cont_) return true;
    if (append_) return append_->waiting();  // APPEND reads its own literal data
    return current_.has_value() && !on_line_;
}

void ImapSession::pump() {
    if (pumping_) {
        again_ = true;
        return;
    }
    pumping_ = true;
    do {
        again_ = false;
        while (!closed_) {
            if (drain_cont_ && !blocking_) {
                flush_output();
                if (transport_.output_full()) break;  // on_drain() comes back here
                auto cont = std::exchange(drain_cont_, {});
                cont();
                continue;
            }
            if (busy()) break;
            ImapEvent ev = parser_.next();
            if (std::holds_alternative<ImapNeedMore>(ev)) break;
            handle(ev);
        }
    } while (again_ && !closed_);
    pumping_ = false;
    if (closed_) return;
    flush_output();
    if (busy()) {
        transport_.pause_reading();
    } else {
        transport_.resume_reading();
    }
}

void ImapSession::handle(ImapEvent& ev) {
    if (on_line_ &&
        (std::holds_alternative<ImapIdleDone>(ev) || std::holds_alternative<ImapSaslResponse>(ev) ||
         std::holds_alternative<ImapSaslCancel>(ev) || std::holds_alternative<ImapBad>(ev))) {
        auto fn = std::exchange(on_line_, {});
        fn(ev);
        return;
    }
    if (auto* c = std::get_if<ImapCommand>(&ev)) return begin(*c);
    if (auto* b = std::get_if<ImapBad>(&ev)) return bad_input(*b);
    if (auto* l = std::get_if<ImapNeedLiteral>(&ev)) {
        if (l->synchronizing) out_.append("+ Ready for literal data\r\n");
        return;
    }
    if (auto* a = std::get_if<ImapAppendBegin>(&ev)) return begin_append(*a);
    if (append_) {
        if (auto* m = std::get_if<ImapAppendMessage>(&ev)) return append_->on_message(*m);
        if (auto* d = std::get_if<ImapAppendData>(&ev)) return append_->on_data(d->bytes);
        if (std::holds_alternative<ImapAppendEnd>(ev)) return append_->on_end();
    }
    // A stray IDLE / SASL event: nothing.
}

void ImapSession::begin_append(const ImapAppendBegin& b) {
    ImapCommand cmd;
    cmd.tag = b.tag;
    cmd.id = ImapCommandId::append;
    current_ = std::move(cmd);
    skip_refresh_ = false;
    append_ = std::make_unique<ImapAppend>(*this, b, gate(ImapCommandId::append, false));
}

void ImapSession::bad_input(const ImapBad& b) {
    std::string_view text = b.text;
    ImapResult status = ImapResult::bad;
    if (append_) {
        // The parser ended the APPEND: nothing is delivered (the spool goes with it).
        AppendEnding r = append_->on_bad(b);
        write_tagged(b.tag, r.status, r.code, r.text);
        end_command();
        if (r.status == ImapResult::bad) count_bad_command();
        return;
    }
    if (b.reason == ImapBadReason::literal_too_big && b.id == ImapCommandId::append) {
        status = ImapResult::no;  // the first message, over APPENDLIMIT
    }
    if (b.tag.empty()) {
        out_.append("* BAD ").append(text).append("\r\n");
    } else {
        write_tagged(b.tag, status, status == ImapResult::no ? "TOOBIG" : "", text);
    }
    count_bad_command();
}

void ImapSession::count_bad_command() {
    if (++bad_commands_ < opts_.max_bad_commands) return;
    out_.append("* BYE Too many invalid commands\r\n");
    close();
}

std::optional<ImapReply> ImapSession::gate(ImapCommandId id, bool needs_handler) const {
    const ImapCommandSpec& spec = imap_command_spec(id);
    if (!allowed_in_state(id, state_bit(state_)))
        return refusal_reply(state_refusal(state_, spec.states));
    if ((spec.flags & imap_cmd_needs_tls) != 0 && !plaintext_auth_allowed())
        return refusal_reply(ImapRefusal::privacy_required);
    if (needs_handler && command_handler(id) == nullptr)
        return refusal_reply(ImapRefusal::not_implemented);
    return std::nullopt;
}

void ImapSession::begin(ImapCommand& cmd) {
    std::optional<ImapReply> refused = gate(cmd.id, true);
    if (refused) {
        write_tagged(cmd.tag, refused->status, imap_code_name(refused->code), refused->text);
        if (refused->status == ImapResult::bad) count_bad_command();
        return;
    }
    current_ = std::move(cmd);
    skip_refresh_ = false;
    command_handler(current_->id)(*this, *current_);
}

void ImapSession::write_tagged(std::string_view tag, ImapResult status, std::string_view code_text,
                               std::string_view text) {
    out_.append(tag).append(" ").append(status_word(status)).append(" ");
    if (!code_text.empty()) out_.append("[").append(code_text).append("] ");
    out_.append(text).append("\r\n");
}

void ImapSession::finish(ImapResult status, std::string_view text, ImapCode code) {
    finish_with_code(status, imap_code_name(code), text);
}

void ImapSession::finish_with_code(ImapResult status, std::string_view code_text,
                                   std::string_view text) {
    if (!current_ || closed_) return;
    // Untagged updates may go out now unless the command uses sequence numbers
    // (RFC 3501 7.4.1: never an EXPUNGE during FETCH / STORE / SEARCH by number).
    bool announce = std::holds_alternative<Selected>(state_) && !skip_refresh_ &&
                    !uses_sequence_numbers(current_->id, current_->uid);
    if (!announce) {
        write_tagged(current_->tag, status, code_text, text);
        end_command();
        return;
    }
    refresh_selected([this, status, code = std::string(code_text), text = std::string(text)] {
        if (!current_) return;
        write_tagged(current_->tag, status, code, text);
        end_command();
    });
}

void ImapSession::end_command() {
    if (append_) {
        // Its code may still be on the stack (the reply came from its own callback).
        retired_.push_back(std::move(append_));
        backend_.post([this, alive = std::weak_ptr<char>(alive_)] {
            if (!alive.expired()) retired_.clear();
        });
    }
    current_.reset();
    on_line_ = nullptr;
    skip_refresh_ = false;
}

void ImapSession::refresh_selected(std::function<void()> then) {
    auto* sel = std::get_if<Selected>(&state_);
    if (sel == nullptr) {
        then();
        return;
    }
    struct Result {
        StoreResult<MailboxDelta> delta = std::unexpected(StoreError::temporary);
        std::vector<MessageInfo> infos;
    };
    auto r = std::make_shared<Result>();
    bool modseq = enabled_.condstore;
    change_pending_ = false;
    blocking(
        [box = sel->box, r, modseq] {
            r->delta = box->refresh();
            if (r->delta && modseq && !r->delta->changed.empty()) {
                if (auto i = box->info(r->delta->changed)) r->infos = std::move(*i);
            }
        },
        [this, r, then = std::move(then)] {
            auto* s = std::get_if<Selected>(&state_);
            if (s != nullptr && r->delta) {
                write_mailbox_updates(out_, *s->box, *r->delta,
                                      {enabled_.qresync, enabled_.condstore}, r->infos);
            } else if (s != nullptr && log_ != nullptr) {
                log_->warning("refresh of the selected mailbox failed: %s",
                              describe(r->delta.error()));
            }
            then();
            // A change signalled while this refresh ran is picked up by the next one.
            if (change_pending_ && on_change_ && !blocking_) on_change_();
        });
}

void ImapSession::blocking(std::function<void()> work, std::function<void()> then) {
    flush_output();
    blocking_ = true;
    transport_.pause_reading();
    backend_.run_blocking(std::move(work),
                          [this, alive = std::weak_ptr<char>(alive_), then = std::move(then)] {
                              if (alive.expired()) return;
                              blocking_ = false;
                              if (closed_) return;
                              then();
                              pump();
                          });
}

bool ImapSession::output_full() {
    flush_output();
    return transport_.output_full();
}

void ImapSession::wait_for_drain(std::function<void()> cont) { drain_cont_ = std::move(cont); }

void ImapSession::await_line(std::function<void(ImapEvent&)> on_line) {
    on_line_ = std::move(on_line);
}

std::function<void()> ImapSession::folder_change_notifier() {
    // Called on a store thread: it only posts; the rest happens here, on ours.
    return [backend = &backend_, alive = std::weak_ptr<char>(alive_), this] {
        backend->post([alive, this] {
            if (alive.expired() || closed_) return;
            change_pending_ = true;
            if (on_change_ && !blocking_) on_change_();
        });
    };
}

void ImapSession::delayed_finish(uint32_t ms, const ImapReply& r, bool close_after) {
    if (!current_) return;
    delayed_.clear();
    delayed_.append(current_->tag).append(" ").append(status_word(r.status)).append(" ");
    if (r.code != ImapCode::none) delayed_.append("[").append(imap_code_name(r.code)).append("] ");
    delayed_.append(r.text).append("\r\n");
    if (close_after) delayed_.append("* BYE Too many failed logins\r\n");
    close_after_delay_ = close_after;
    timer_wait_ = true;
    flush_output();
    transport_.pause_reading();
    transport_.start_timer(ms);
}

void ImapSession::flush_output() {
    if (out_.empty() || closed_) return;
    transport_.write(out_);
    out_.clear();
}

}  // namespace postern
