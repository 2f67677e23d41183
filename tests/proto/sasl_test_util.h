#pragma once
// Shared fixture for the SASL tests: an in-memory user table behind SaslCallbacks.
// (Header only, not a *_test.cc, so it is not compiled on its own.)

#include "libproto/core/base64.h"
#include "libproto/sasl/sasl.h"
#include "libproto/core/scram_keys.h"

#include <map>
#include <string>

namespace sasl_test {

struct Users {
    std::map<std::string, std::string> passwords{{"alice@example.org", "secret"},
                                                 {"user@example.org", "pencil"}};
    std::map<std::string, postern::ScramKeys> scram;
    int verify_calls = 0;

    postern::SaslCallbacks callbacks() {
        postern::SaslCallbacks cb;
        cb.resolve_login =
            [](std::string_view login) -> std::expected<std::string, postern::SaslLookupError> {
            if (login == "temp") return std::unexpected(postern::SaslLookupError::temporary);
            if (login == "alice" || login == "alice@example.org" || login == "alice%example.org")
                return std::string("alice@example.org");
            if (login == "user" || login == "user@example.org")
                return std::string("user@example.org");
            if (login == "nokeys") return std::string("nokeys@example.org");
            return std::unexpected(postern::SaslLookupError::not_found);
        };
        cb.verify_password = [this](std::string_view user, std::string_view pw) {
            ++verify_calls;
            auto it = passwords.find(std::string(user));
            if (it == passwords.end()) return postern::PasswordCheck::mismatch;
            return it->second == pw ? postern::PasswordCheck::ok : postern::PasswordCheck::mismatch;
        };
        cb.scram_credentials = [this](std::string_view user)
            -> std::expected<postern::ScramKeys, postern::SaslLookupError> {
            auto it = scram.find(std::string(user));
            if (it == scram.end()) return std::unexpected(postern::SaslLookupError::not_found);
            return it->second;
        };
        cb.cram_md5_secret =
            [this](std::string_view user) -> std::expected<std::string, postern::SaslLookupError> {
            auto it = passwords.find(std::string(user));
            if (it == passwords.end()) return std::unexpected(postern::SaslLookupError::not_found);
            return it->second;
        };
        return cb;
    }
};

inline std::string b64(std::string_view s) { return postern::base64_encode(s); }

inline std::string challenge_text(const postern::SaslStep& s) {
    auto* c = std::get_if<postern::SaslChallenge>(&s);
    if (!c) return "<not a challenge>";
    auto d = postern::base64_decode(c->base64);
    return d ? *d : "<bad base64>";
}

inline bool is_failure(const postern::SaslStep& s, postern::SaslFailure f) {
    auto* x = std::get_if<postern::SaslFailed>(&s);
    return x && x->reason == f;
}

inline std::string success_user(const postern::SaslStep& s) {
    auto* x = std::get_if<postern::SaslSuccess>(&s);
    return x ? x->user : "<not a success>";
}

}  // namespace sasl_test
