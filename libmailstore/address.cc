#include "libmailstore/address.h"

#include <cctype>

namespace postern {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext minus what is unsafe in a path or a login name ('/', '%', '@' are not
// atext or are excluded here).
bool is_local_char(char c) {
    if (is_alnum(c)) return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
    case '.': return true;
    default: return false;
    }
}

}  // namespace

StoreResult<std::string> normalize_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > 253) return std::unexpected(StoreError::invalid);
    std::string out;
    out.reserve(domain.size());
    size_t label_len = 0;
    char prev = '.';
    for (char c : domain) {
        if (c == '.') {
            if (label_len == 0 || prev == '-') return std::unexpected(StoreError::invalid);
            label_len = 0;
        } else if (is_alnum(c) || c == '-') {
            if (c == '-' && label_len == 0) return std::unexpected(StoreError::invalid);
            if (++label_len > 63) return std::unexpected(StoreError::invalid);
        } else {
            return std::unexpected(StoreError::invalid);
        }
        out.push_back(lower(c));
        prev = c;
    }
    if (label_len == 0 || prev == '-') return std::unexpected(StoreError::invalid);
    // DATA/accounts and DATA/tmp are the store's own directories.
    if (out == "accounts" || out == "tmp") return std::unexpected(StoreError::invalid);
    return out;
}

const char* mail_domain_problem(std::string_view domain) {
    auto dot = domain.rfind('.');
    if (dot == std::string_view::npos) return "a mail domain needs at least two labels";
    std::string_view last = domain.substr(dot + 1);
    bool numeric = !last.empty();
    for (char c : last) numeric = numeric && c >= '0' && c <= '9';
    if (numeric) return "an IP address is not a mail domain";
    if (last == "localhost" || domain == "localhost.localdomain")
        return "localhost names are loopback names, not mail domains";
    return nullptr;
}

StoreResult<std::string> normalize_local_part(std::string_view local) {
    if (local.empty() || local.size() > 64) return std::unexpected(StoreError::invalid);
    if (local.front() == '.' || local.back() == '.') return std::unexpected(StoreError::invalid);
    std::string out;
    out.reserve(local.size());
    char prev = 0;
    for (char c : local) {
        if (!is_local_char(c)) return std::unexpected(StoreError::invalid);
        if (c == '.' && prev == '.') return std::unexpected(StoreError::invalid);
        out.push_back(lower(c));
        prev = c;
    }
    return out;
}

StoreResult<Address> parse_address(std::string_view addr) {
    auto at = addr.rfind('@');
    if (at == std::string_view::npos) return std::unexpected(StoreError::invalid);
    auto local = normalize_local_part(addr.substr(0, at));
    if (!local) return std::unexpected(local.error());
    auto domain = normalize_domain(addr.substr(at + 1));
    if (!domain) return std::unexpected(domain.error());
    return Address{std::move(*local), std::move(*domain)};
}

StoreResult<std::string> normalize_address(std::string_view addr) {
    auto a = parse_address(addr);
    if (!a) return std::unexpected(a.error());
    return a->str();
}

}  // namespace postern
