#include "libproto/smtp_client/smtp_client_reply.h"

namespace postern {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// 1 to `max` digits at the start of s; advances s past them.
bool take_digits(std::string_view& s, size_t max) {
    size_t n = 0;
    while (n < s.size() && n < max && digit(s[n])) ++n;
    if (n == 0 || (n < s.size() && digit(s[n]))) return false;
    s.remove_prefix(n);
    return true;
}

}  // namespace

std::string ClientReply::text() const {
    std::string out = std::to_string(code);
    if (!status.empty()) out += " " + status;
    for (const auto& l : lines) {
        if (l.empty()) continue;
        out += ' ';
        out += l;
    }
    return out;
}

std::optional<std::string> parse_enhanced_status(int code, std::string_view text,
                                                 std::string_view& rest) {
    std::string_view s = text;
    if (s.size() < 5 || s[0] != char('0' + code / 100) || s[1] != '.') return std::nullopt;
    s.remove_prefix(2);
    if (!take_digits(s, 3) || s.empty() || s[0] != '.') return std::nullopt;
    s.remove_prefix(1);
    if (!take_digits(s, 3)) return std::nullopt;
    if (!s.empty() && s[0] != ' ') return std::nullopt;
    std::string status(text.substr(0, text.size() - s.size()));
    if (!s.empty()) s.remove_prefix(1);
    rest = s;
    return status;
}

ReplyReader::Result ReplyReader::fail(std::string what) {
    error_ = std::move(what);
    cur_ = {};
    return Result::error;
}

ReplyReader::Result ReplyReader::feed(std::string_view line) {
    if (!error_.empty()) return Result::error;
    if (line.size() > limits_.max_line) return fail("reply line too long");
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]))
        return fail("not a reply line");
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 200 || code > 599 || line[1] > '5') return fail("reply code out of range");
    bool last = true;
    std::string_view text;
    if (line.size() > 3) {
        if (line[3] == '-')
            last = false;
        else if (line[3] != ' ')
            return fail("no space or hyphen after the reply code");
        text = line.substr(4);
    }
    if (!cur_.lines.empty() && cur_.code != code) return fail("reply code changed within a reply");
    if (cur_.lines.size() >= limits_.max_lines) return fail("reply has too many lines");
    // Servers put odd bytes in texts; only NUL (which no text may hold) is refused here.
    if (text.find('\0') != std::string_view::npos) return fail("NUL in a reply");
    cur_.code = code;
    std::string_view rest;
    if (auto st = parse_enhanced_status(code, text, rest)) {
        if (cur_.lines.empty()) cur_.status = *st;
        text = rest;
    }
    cur_.lines.emplace_back(text);
    if (!last) return Result::need_more;
    done_ = std::move(cur_);
    cur_ = {};
    return Result::reply;
}

}  // namespace postern
