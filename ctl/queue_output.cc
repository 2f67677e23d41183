#include "ctl/queue_output.h"

#include <cstdio>
#include <ctime>

#include "libproto/core/log_escape.h"

namespace postern::ctl {

namespace {

// Text output shows queue data through log_escape: no control byte reaches the terminal.
std::string esc(std::string_view s) { return log_escape(s, 4096); }

std::string time_text(int64_t t) {
    if (t <= 0) return "now";
    time_t tt = static_cast<time_t>(t);
    struct tm tm {};
    ::localtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char* status_text(RcptStatus s) {
    switch (s) {
    case RcptStatus::pending: return "pending";
    case RcptStatus::delivered: return "delivered";
    case RcptStatus::failed: return "failed";
    }
    return "?";
}

// Length of the UTF-8 sequence at s[i] (1 to 4), or 0 when it is not valid UTF-8.
size_t utf8_len(std::string_view s, size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    if (n == 2 && c < 0xC2) return 0;  // overlong
    return n;
}

void kv(std::string& out, const char* key, std::string_view value) {
    out += '"';
    out += key;
    out += "\":";
    out += json_string(value);
}

// Without it a const char* value would pick the bool overload.
void kv(std::string& out, const char* key, const char* value) {
    kv(out, key, std::string_view(value));
}

void kv(std::string& out, const char* key, int64_t value) {
    out += '"';
    out += key;
    out += "\":";
    out += std::to_string(value);
}

void kv(std::string& out, const char* key, bool value) {
    out += '"';
    out += key;
    out += "\":";
    out += value ? "true" : "false";
}

// The reason a pending recipient waits: its own error or its first waiting target's reply.
std::string delay_reason(const Recipient& r) {
    for (const auto& t : r.targets)
        if (t.state == TargetState::deferred || t.state == TargetState::failed) return t.reply;
    return r.last_error;
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t n = utf8_len(s, i);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f || n == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        ++i;
    }
    out += '"';
    return out;
}

const char* queue_name(const Envelope& e) {
    if (e.held) return "hold";
    return e.attempts > 0 ? "deferred" : "active";
}

std::string last_error(const Envelope& e) {
    for (const auto& r : e.recipients) {
        if (r.status == RcptStatus::delivered) continue;
        if (auto why = delay_reason(r); !why.empty()) return why;
    }
    return {};
}

std::string entry_text(const Envelope& e) {
    char line[512];
    std::snprintf(line, sizeof line, "%s %llu bytes from <", e.id.c_str(),
                  static_cast<unsigned long long>(e.size));
    std::string out = line;
    out += esc(e.reverse_path);
    out += "> arrived " + time_text(e.arrival) + ", " + std::to_string(e.attempts) +
           " attempts, next " + (e.held ? std::string("never (held)") : time_text(e.next_attempt));
    if (e.held) out += " [held]";
    out += '\n';
    if (auto err = last_error(e); !err.empty()) out += "    last error: " + esc(err) + "\n";
    for (const auto& r : e.recipients) {
        out += "    <" + esc(r.address) + "> " + status_text(r.status);
        if (!r.expanded && !r.last_error.empty()) out += ": " + esc(r.last_error);
        out += '\n';
        for (const auto& t : r.targets) {
            out += std::string("        -> ") + (t.remote ? "remote" : "local") + " <" +
                   esc(t.address) + "> " + target_state_text(t.state);
            if (t.state == TargetState::deferred)
                out += " (" + std::to_string(t.attempts) + " attempts, next " +
                       time_text(t.next_attempt) + ")";
            if (!t.reply.empty()) out += ": " + esc(t.reply);
            out += '\n';
        }
    }
    return out;
}

std::string entry_json(const Envelope& e, const std::string* headers) {
    std::string o = "{";
    kv(o, "queue_name", queue_name(e));
    o += ',';
    kv(o, "queue_id", e.id);
    o += ',';
    kv(o, "arrival_time", e.arrival);
    o += ',';
    kv(o, "message_size", static_cast<int64_t>(e.size));
    o += ',';
    kv(o, "sender", e.reverse_path);
    o += ',';
    kv(o, "attempts", static_cast<int64_t>(e.attempts));
    o += ',';
    kv(o, "next_attempt", e.next_attempt);
    o += ',';
    kv(o, "held", e.held);
    o += ',';
    kv(o, "last_error", last_error(e));
    if (headers) {
        o += ',';
        kv(o, "envid", e.envid);
        o += ',';
        kv(o, "ret", e.ret == DsnRet::full ? "FULL" : e.ret == DsnRet::hdrs ? "HDRS" : "");
        o += ',';
        kv(o, "smtputf8", e.smtputf8);
        o += ',';
        kv(o, "client_address", e.client_ip);
        o += ',';
        kv(o, "client_helo", e.client_helo);
        o += ',';
        kv(o, "auth_user", e.auth_user);
        o += ',';
        kv(o, "headers", *headers);
    }
    o += ",\"recipients\":[";
    for (size_t i = 0; i < e.recipients.size(); ++i) {
        const Recipient& r = e.recipients[i];
        o += i ? ",{" : "{";
        kv(o, "address", r.address);
        o += ',';
        kv(o, "orig_rcpt", r.orcpt);
        o += ',';
        kv(o, "status", status_text(r.status));
        o += ',';
        kv(o, "delay_reason", r.status == RcptStatus::delivered ? "" : delay_reason(r));
        o += ",\"targets\":[";
        for (size_t j = 0; j < r.targets.size(); ++j) {
            const Target& t = r.targets[j];
            o += j ? ",{" : "{";
            kv(o, "address", t.address);
            o += ',';
            kv(o, "kind", t.remote ? "remote" : "local");
            o += ',';
            kv(o, "state", target_state_text(t.state));
            o += ',';
            kv(o, "attempts", static_cast<int64_t>(t.attempts));
            o += ',';
            kv(o, "next_attempt", t.next_attempt);
            o += ',';
            kv(o, "reply", t.reply);
            o += '}';
        }
        o += "]}";
    }
    o += "]}\n";
    return o;
}

std::string header_part(std::string_view m) {
    size_t end = m.find("\r\n\r\n");
    size_t lf = m.find("\n\n");
    if (lf != std::string_view::npos && (end == std::string_view::npos || lf < end))
        return std::string(m.substr(0, lf + 1));
    if (end == std::string_view::npos) return std::string(m);
    return std::string(m.substr(0, end + 2));
}

}  // namespace postern::ctl
