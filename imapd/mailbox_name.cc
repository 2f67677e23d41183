#include "imapd/mailbox_name.h"

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_mutf7.h"

namespace postern {
namespace {

bool has_8bit(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}

// "INBOX" and "INBOX/..." in any case get the canonical spelling.
std::string canonical_inbox(std::string s) {
    if (s.size() >= 5 && iequals(std::string_view(s).substr(0, 5), "INBOX") &&
        (s.size() == 5 || s[5] == mailbox_delimiter)) {
        for (size_t i = 0; i < 5; ++i) s[i] = "INBOX"[i];
    }
    return s;
}

bool match_at(std::string_view p, std::string_view n) {
    while (!p.empty()) {
        char c = p.front();
        if (c == '*' || c == '%') {
            p.remove_prefix(1);
            if (p.empty()) return c == '*' || n.find(mailbox_delimiter) == std::string_view::npos;
            for (size_t i = 0; i <= n.size(); ++i) {
                if (match_at(p, n.substr(i))) return true;
                if (i < n.size() && c == '%' && n[i] == mailbox_delimiter) return false;
            }
            return false;
        }
        if (n.empty() || n.front() != c) return false;
        p.remove_prefix(1);
        n.remove_prefix(1);
    }
    return n.empty();
}

}  // namespace

std::optional<std::string> store_mailbox_name(std::string_view client, bool utf8) {
    std::string name;
    if (utf8 && has_8bit(client)) {
        auto m = utf8_to_mutf7(client);
        if (!m) return std::nullopt;
        name = std::move(*m);
    } else {
        if (!mutf7_to_utf8(client)) return std::nullopt;
        name = std::string(client);
    }
    if (name.size() > 1 && name.back() == mailbox_delimiter) name.pop_back();
    if (name.empty()) return std::nullopt;
    return canonical_inbox(std::move(name));
}

std::string client_mailbox_name(std::string_view stored, bool utf8) {
    if (utf8) {
        if (auto u = mutf7_to_utf8(stored)) return *u;
    }
    return std::string(stored);
}

bool mailbox_name_bad_utf8(std::string_view client) {
    return has_8bit(client) && !utf8_to_mutf7(client);
}

bool list_match(std::string_view pattern, std::string_view name) {
    // INBOX is case-insensitive: compare both with the canonical spelling.
    std::string p = canonical_inbox(std::string(pattern));
    return match_at(p, name);
}

}  // namespace postern
