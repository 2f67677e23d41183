#include "libproto/smtp_client/smtp_client_caps.h"

#include <charconv>

#include "libproto/core/ascii.h"

namespace postern {

namespace {

// Splits on spaces (a server may also separate with several).
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

bool EhloCapabilities::has_auth(std::string_view mech) const {
    for (const auto& m : auth)
        if (iequals(m, mech)) return true;
    return false;
}

EhloCapabilities parse_ehlo(const ClientReply& reply) {
    EhloCapabilities caps;
    for (size_t i = 1; i < reply.lines.size(); ++i) {
        auto w = words(reply.lines[i]);
        if (w.empty()) continue;
        std::string_view key = w[0];
        if (iequals(key, "PIPELINING")) {
            caps.pipelining = true;
        } else if (iequals(key, "STARTTLS")) {
            caps.starttls = true;
        } else if (iequals(key, "SIZE")) {
            caps.size = true;
            if (w.size() > 1) {
                uint64_t n = 0;
                auto [p, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), n);
                if (ec == std::errc() && p == w[1].data() + w[1].size()) caps.size_limit = n;
            }
        } else if (iequals(key, "8BITMIME")) {
            caps.eight_bit_mime = true;
        } else if (iequals(key, "BINARYMIME")) {
            caps.binary_mime = true;
        } else if (iequals(key, "SMTPUTF8")) {
            caps.smtputf8 = true;
        } else if (iequals(key, "REQUIRETLS")) {
            caps.requiretls = true;
        } else if (iequals(key, "DSN")) {
            caps.dsn = true;
        } else if (iequals(key, "CHUNKING")) {
            caps.chunking = true;
        } else if (iequals(key, "ENHANCEDSTATUSCODES")) {
            caps.enhanced_status = true;
        } else if (iequals(key, "AUTH") || istarts_with(key, "AUTH=")) {
            // "AUTH=LOGIN PLAIN" is the pre-RFC 4954 form some servers still send.
            if (key.size() > 5) caps.auth.push_back(ascii_uppered(key.substr(5)));
            for (size_t k = 1; k < w.size() && caps.auth.size() < 32; ++k) {
                std::string m = ascii_uppered(w[k]);
                bool seen = false;
                for (const auto& a : caps.auth) seen = seen || a == m;
                if (!seen) caps.auth.push_back(std::move(m));
            }
        }
    }
    return caps;
}

}  // namespace postern
