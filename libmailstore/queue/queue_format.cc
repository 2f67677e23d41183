// The envelope trailer: one "key value" line per field, values percent-encoded so any
// byte (spaces, quotes, CR, LF, '%') in an address survives the round trip. UTF-8 passes
// through unencoded.

#include <charconv>
#include <cstring>

#include "libmailstore/queue/queue.h"
#include "libmailstore/queue/queue_text.h"

namespace postern {

namespace queue_text {

void put_encoded(std::string& out, std::string_view v) {
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned char c : v) {
        if (c <= 0x20 || c == 0x7f || c == '%') {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
}

namespace {
int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

bool decode_value(std::string_view v, std::string& out) {
    out.clear();
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '%') {
            out += v[i];
            continue;
        }
        if (i + 2 >= v.size()) return false;
        int hi = hexval(v[i + 1]), lo = hexval(v[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

}  // namespace queue_text

namespace {

using queue_text::decode_value;
using queue_text::put_encoded;

template <class T>
bool parse_num(std::string_view v, T& out) {
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && p == v.data() + v.size();
}

void line(std::string& out, const char* key, std::string_view v) {
    out += key;
    out += ' ';
    put_encoded(out, v);
    out += '\n';
}

}  // namespace

const char* queue_error_text(QueueError e) {
    switch (e) {
    case QueueError::not_found: return "no such queue entry";
    case QueueError::invalid: return "invalid queue entry";
    case QueueError::no_space: return "queue disk full";
    case QueueError::io: return "queue I/O error";
    }
    return "queue error";
}

std::string encode_envelope(const Envelope& env) {
    std::string out;
    out.reserve(256 + env.recipients.size() * 64);
    line(out, "id", env.id);
    line(out, "from", env.reverse_path);
    line(out, "envid", env.envid);
    out += "ret " + std::to_string(static_cast<int>(env.ret)) + "\n";
    out += "body " + std::to_string(static_cast<int>(env.body)) + "\n";
    out += "utf8 " + std::string(env.smtputf8 ? "1" : "0") + "\n";
    if (env.requiretls) out += "requiretls 1\n";  // only when set: older files stay the same
    if (env.tls_optional) out += "tlsoptional 1\n";
    line(out, "ip", env.client_ip);
    line(out, "helo", env.client_helo);
    line(out, "auth", env.auth_user);
    out += "arrival " + std::to_string(env.arrival) + "\n";
    for (const auto& r : env.recipients) {
        out += "rcpt " + std::to_string(r.notify) + ' ';
        put_encoded(out, r.orcpt);
        out += ' ';
        put_encoded(out, r.address);
        out += '\n';
    }
    out += "end\n";
    return out;
}

std::expected<Envelope, QueueError> decode_envelope(std::string_view text) {
    Envelope env;
    bool ended = false;
    std::string tmp;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        if (nl == std::string_view::npos) return std::unexpected(QueueError::invalid);
        std::string_view ln = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (ln == "end") {
            ended = true;
            break;
        }
        size_t sp = ln.find(' ');
        if (sp == std::string_view::npos) return std::unexpected(QueueError::invalid);
        std::string_view key = ln.substr(0, sp), val = ln.substr(sp + 1);
        auto str = [&](std::string& dst) { return decode_value(val, dst); };
        bool ok = true;
        if (key == "id")
            ok = str(env.id);
        else if (key == "from")
            ok = str(env.reverse_path);
        else if (key == "envid")
            ok = str(env.envid);
        else if (key == "ip")
            ok = str(env.client_ip);
        else if (key == "helo")
            ok = str(env.client_helo);
        else if (key == "auth")
            ok = str(env.auth_user);
        else if (key == "arrival")
            ok = parse_num(val, env.arrival);
        else if (key == "utf8")
            env.smtputf8 = (val == "1");
        else if (key == "requiretls")
            env.requiretls = (val == "1");
        else if (key == "tlsoptional")
            env.tls_optional = (val == "1");
        else if (key == "ret" || key == "body") {
            int n = 0;
            ok = parse_num(val, n) && n >= 0 && n <= 3;
            if (ok && key == "ret")
                ok = n <= 2, env.ret = static_cast<DsnRet>(n);
            else if (ok)
                env.body = static_cast<BodyType>(n);
        } else if (key == "rcpt") {
            size_t a = val.find(' ');
            size_t b = a == std::string_view::npos ? a : val.find(' ', a + 1);
            if (b == std::string_view::npos) return std::unexpected(QueueError::invalid);
            Recipient r;
            unsigned n = 0;
            ok = parse_num(val.substr(0, a), n) && n < 256 &&
                 decode_value(val.substr(a + 1, b - a - 1), r.orcpt) &&
                 decode_value(val.substr(b + 1), r.address);
            r.notify = static_cast<uint8_t>(n);
            env.recipients.push_back(std::move(r));
        }
        // Unknown keys are skipped: a newer writer may add fields.
        if (!ok) return std::unexpected(QueueError::invalid);
    }
    if (!ended) return std::unexpected(QueueError::invalid);
    return env;
}

}  // namespace postern
