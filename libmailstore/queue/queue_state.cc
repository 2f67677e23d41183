// The state log of a queue entry: its records as text, their framing, and the rule by which
// each record changes the envelope when the log is replayed (docs/queue.md, "State log").
//
// Every record is one line "<payload> #<8 hex digits>\n", the digits an FNV-1a hash of the
// payload. A record torn by a crash fails the check and is skipped, and append_state() starts
// a fresh line after a torn tail, so a torn record can never merge with the next one ("d 12 0"
// torn to "d 1", then "A 2 ..." must not read as "recipient 1 delivered").

#include <charconv>
#include <cstdio>
#include <optional>

#include "libmailstore/queue/queue.h"
#include "libmailstore/queue/queue_text.h"

namespace postern {

namespace {

using Kind = StateRecord::Kind;

constexpr size_t kCheckLen = 10;  // " #" + 8 hex digits

uint32_t record_check(std::string_view payload) {
    uint32_t h = 2166136261u;
    for (unsigned char c : payload) h = (h ^ c) * 16777619u;
    return h;
}

// The payload of a framed line, or nullopt when the line is torn or damaged.
std::optional<std::string_view> unframe_record(std::string_view ln) {
    if (ln.size() < kCheckLen || ln[ln.size() - kCheckLen] != ' ' ||
        ln[ln.size() - kCheckLen + 1] != '#')
        return std::nullopt;
    std::string_view payload = ln.substr(0, ln.size() - kCheckLen);
    uint32_t want = 0;
    std::string_view hex = ln.substr(ln.size() - 8);
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), want, 16);
    if (ec != std::errc() || p != hex.data() + hex.size() || want != record_check(payload))
        return std::nullopt;
    return payload;
}

// Record letters. Upper case: the entry or a recipient; lower case: one target.
char letter(Kind k) {
    switch (k) {
    case Kind::attempt: return 'A';
    case Kind::done: return 'D';
    case Kind::fail: return 'F';
    case Kind::defer: return 'T';
    case Kind::flush: return 'N';
    case Kind::local_done: return 'L';
    case Kind::expand: return 'X';
    case Kind::expand_fail: return 'E';
    case Kind::notified: return 'B';
    case Kind::target_done: return 'd';
    case Kind::target_defer: return 't';
    case Kind::target_fail: return 'f';
    case Kind::target_notified: return 'b';
    case Kind::hold: return 'H';
    case Kind::release: return 'U';
    case Kind::delay_notified: return 'W';
    }
    return '?';
}

std::optional<Kind> kind_of(char c) {
    for (int k = 0; k <= static_cast<int>(Kind::delay_notified); ++k)
        if (letter(static_cast<Kind>(k)) == c) return static_cast<Kind>(k);
    return std::nullopt;
}

template <class T>
bool parse_num(std::string_view v, T& out) {
    if (v.empty()) return false;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size();
}

// Splits at every single space (an empty field stays a field: "F 1 " has an empty reply).
std::vector<std::string_view> fields(std::string_view s) {
    std::vector<std::string_view> out;
    for (;;) {
        size_t sp = s.find(' ');
        out.push_back(s.substr(0, sp));
        if (sp == std::string_view::npos) return out;
        s.remove_prefix(sp + 1);
    }
}

void add_num(std::string& out, uint64_t n) {
    out += ' ';
    out += std::to_string(n);
}

std::string payload_of(const StateRecord& r) {
    std::string p(1, letter(r.kind));
    auto text = [&](std::string_view v) {
        p += ' ';
        queue_text::put_encoded(p, v);
    };
    switch (r.kind) {
    case Kind::attempt:
        add_num(p, r.attempts);
        p += ' ' + std::to_string(r.next_attempt);
        break;
    case Kind::flush:
    case Kind::hold:
    case Kind::release:
    case Kind::delay_notified: break;
    case Kind::done:
    case Kind::local_done:
    case Kind::notified: add_num(p, r.rcpt); break;
    case Kind::fail:
    case Kind::defer:
    case Kind::expand_fail:
        add_num(p, r.rcpt);
        text(r.error);
        break;
    case Kind::expand:
        add_num(p, r.rcpt);
        for (const auto& t : r.targets) {
            p += t.remote ? " r" : " l";
            queue_text::put_encoded(p, t.address);
        }
        break;
    case Kind::target_done:
    case Kind::target_notified:
        add_num(p, r.rcpt);
        add_num(p, r.target);
        break;
    case Kind::target_defer:
        add_num(p, r.rcpt);
        add_num(p, r.target);
        add_num(p, r.attempts);
        p += ' ' + std::to_string(r.next_attempt);
        text(r.error);
        break;
    case Kind::target_fail:
        add_num(p, r.rcpt);
        add_num(p, r.target);
        text(r.error);
        break;
    }
    return p;
}

// The record a payload holds; nullopt when it is not one (unknown letter, wrong fields).
std::optional<StateRecord> parse_payload(std::string_view payload) {
    auto f = fields(payload);
    if (f[0].size() != 1) return std::nullopt;
    auto kind = kind_of(f[0][0]);
    if (!kind) return std::nullopt;
    StateRecord r;
    r.kind = *kind;
    auto want = [&](size_t n) { return f.size() == n; };
    auto err = [&](size_t i) { return queue_text::decode_value(f[i], r.error); };
    bool ok = false;
    switch (r.kind) {
    case Kind::attempt:
        ok = want(3) && parse_num(f[1], r.attempts) && parse_num(f[2], r.next_attempt);
        break;
    case Kind::flush:
    case Kind::hold:
    case Kind::release:
    case Kind::delay_notified: ok = want(1); break;
    case Kind::done:
    case Kind::local_done:
    case Kind::notified: ok = want(2) && parse_num(f[1], r.rcpt); break;
    case Kind::fail:
    case Kind::defer:
    case Kind::expand_fail: ok = want(3) && parse_num(f[1], r.rcpt) && err(2); break;
    case Kind::expand:
        ok = f.size() >= 2 && parse_num(f[1], r.rcpt);
        for (size_t i = 2; ok && i < f.size(); ++i) {
            Target t;
            ok = !f[i].empty() && (f[i][0] == 'l' || f[i][0] == 'r') &&
                 queue_text::decode_value(f[i].substr(1), t.address);
            t.remote = ok && f[i][0] == 'r';
            r.targets.push_back(std::move(t));
        }
        break;
    case Kind::target_done:
    case Kind::target_notified:
        ok = want(3) && parse_num(f[1], r.rcpt) && parse_num(f[2], r.target);
        break;
    case Kind::target_defer:
        ok = want(6) && parse_num(f[1], r.rcpt) && parse_num(f[2], r.target) &&
             parse_num(f[3], r.attempts) && parse_num(f[4], r.next_attempt) && err(5);
        break;
    case Kind::target_fail:
        ok = want(4) && parse_num(f[1], r.rcpt) && parse_num(f[2], r.target) && err(3);
        break;
    }
    if (!ok) return std::nullopt;
    return r;
}

bool final_state(TargetState s) { return s == TargetState::delivered || s == TargetState::failed; }

}  // namespace

const char* target_state_text(TargetState s) {
    switch (s) {
    case TargetState::pending: return "pending";
    case TargetState::delivered: return "delivered";
    case TargetState::deferred: return "deferred";
    case TargetState::failed: return "failed";
    }
    return "?";
}

std::string encode_state_record(const StateRecord& rec) {
    std::string payload = payload_of(rec);
    char check[kCheckLen + 1];
    std::snprintf(check, sizeof check, " #%08x", record_check(payload));
    payload.append(check, kCheckLen);
    payload += '\n';
    return payload;
}

std::vector<StateRecord> decode_state_log(std::string_view log) {
    std::vector<StateRecord> out;
    while (!log.empty()) {
        size_t nl = log.find('\n');
        if (nl == std::string_view::npos) break;  // torn last record: ignored
        auto framed = unframe_record(log.substr(0, nl));
        log.remove_prefix(nl + 1);
        if (!framed) continue;  // torn, damaged, or an unframed record of an old log
        if (auto r = parse_payload(*framed)) out.push_back(std::move(*r));
    }
    return out;
}

void apply_state_record(Envelope& env, const StateRecord& rec) {
    switch (rec.kind) {
    case Kind::attempt:
        env.attempts = rec.attempts;
        env.next_attempt = rec.next_attempt;
        return;
    case Kind::flush:
        env.next_attempt = 0;
        for (auto& r : env.recipients)
            for (auto& t : r.targets)
                if (t.state == TargetState::deferred) t.next_attempt = 0;
        return;
    case Kind::hold: env.held = true; return;
    case Kind::release: env.held = false; return;
    case Kind::delay_notified: env.delay_notified = true; return;
    default: break;
    }
    if (rec.rcpt >= env.recipients.size()) return;
    Recipient& r = env.recipients[rec.rcpt];
    Target* t = rec.target < r.targets.size() ? &r.targets[rec.target] : nullptr;
    switch (rec.kind) {
    case Kind::done:
        r.status = RcptStatus::delivered;
        r.last_error.clear();
        for (auto& x : r.targets) x.state = TargetState::delivered;
        break;
    case Kind::fail:
    case Kind::expand_fail:
        if (r.expanded) break;  // the expansion stands
        r.status = RcptStatus::failed;
        r.last_error = rec.error;
        r.notified = rec.kind == Kind::fail;  // legacy F was written after its bounce
        break;
    case Kind::notified: r.notified = true; break;
    case Kind::defer: r.last_error = rec.error; break;
    case Kind::local_done: r.local_done = true; break;
    case Kind::expand:
        if (r.expanded || r.status != RcptStatus::pending) break;  // the first one wins
        r.expanded = true;
        r.last_error.clear();
        r.targets.clear();
        for (const auto& x : rec.targets) {
            Target nt;
            nt.address = x.address;
            nt.remote = x.remote;
            // Upgrade of a legacy log: "L" said the local mailboxes were done.
            if (r.local_done && !x.remote) nt.state = TargetState::delivered;
            r.targets.push_back(std::move(nt));
        }
        break;
    case Kind::target_done:
        if (t && t->state != TargetState::failed)
            t->state = TargetState::delivered, t->reply.clear();
        break;
    case Kind::target_defer:
        if (t && !final_state(t->state)) {
            t->state = TargetState::deferred;
            t->attempts = rec.attempts;
            t->next_attempt = rec.next_attempt;
            t->reply = rec.error;
        }
        break;
    case Kind::target_fail:
        if (t && !final_state(t->state)) t->state = TargetState::failed, t->reply = rec.error;
        break;
    case Kind::target_notified:
        if (t) t->notified = true;
        break;
    default: break;
    }
}

void derive_status(Envelope& env) {
    for (auto& r : env.recipients) {
        if (!r.expanded || r.targets.empty()) continue;
        bool all_final = true, any_failed = false;
        for (const auto& t : r.targets) {
            all_final = all_final && final_state(t.state);
            any_failed = any_failed || t.state == TargetState::failed;
        }
        r.status = !all_final   ? RcptStatus::pending
                   : any_failed ? RcptStatus::failed
                                : RcptStatus::delivered;
    }
}

}  // namespace postern
