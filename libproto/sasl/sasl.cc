#include "libproto/sasl/sasl.h"

#include "libproto/core/base64.h"
#include "libproto/sasl/sasl_mechs.h"
#include "libproto/core/ascii.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <utility>

namespace postern {

namespace sasl_detail {

Digest256 hmac_sha256(std::string_view key, std::string_view data) {
    Digest256 out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
    return out;
}

Digest256 sha256(std::string_view data) {
    Digest256 out{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
    return out;
}

std::string_view as_view(const Digest256& d) {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string server_nonce(const SaslOptions& opt) {
    if (opt.nonce_source) return opt.nonce_source();
    unsigned char raw[18];
    if (RAND_bytes(raw, sizeof raw) != 1) abort();  // no entropy: nothing safe to do
    return base64_encode({reinterpret_cast<const char*>(raw), sizeof raw});
}

std::string_view fake_secret(const SaslOptions& opt) {
    if (!opt.fake_user_secret.empty()) return opt.fake_user_secret;
    static const std::string secret = [] {
        std::string s(32, '\0');
        if (RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), 32) != 1) abort();
        return s;
    }();
    return secret;
}

}  // namespace sasl_detail

using namespace sasl_detail;

std::string_view sasl_failure_text(SaslFailure f) {
    switch (f) {
    case SaslFailure::malformed: return "malformed authentication exchange";
    case SaslFailure::bad_credentials: return "authentication failed";
    case SaslFailure::cancelled: return "authentication cancelled";
    case SaslFailure::temp_failure: return "temporary authentication failure";
    case SaslFailure::refused: return "too many failed logins, try again later";
    case SaslFailure::too_long: return "authentication exchange line is too long";
    }
    return "authentication failed";
}

SaslServer::SaslServer(std::string_view mechanism, const SaslCallbacks& cb, const SaslOptions& opt)
    : mechanism_(mechanism), cb_(cb), opt_(opt) {}

SaslStep SaslServer::start(std::optional<std::string_view> initial_response) {
    if (started_ || done_) return fail(SaslFailure::malformed);
    started_ = true;
    if (!initial_response) return on_start_without_data();
    return handle(*initial_response, true);
}

SaslStep SaslServer::step(std::string_view client_line) {
    if (!started_ || done_ || continuation_) return fail(SaslFailure::malformed);
    return handle(client_line, false);
}

SaslStep SaslServer::resume() {
    if (!continuation_ || done_) return fail(SaslFailure::malformed);
    return std::exchange(continuation_, {})();
}

SaslStep SaslServer::defer(std::function<void()> work, std::function<SaslStep()> then) {
    if (!opt_.defer_lookups) {
        work();
        return then();
    }
    continuation_ = std::move(then);
    return SaslPending{std::move(work)};
}

SaslStep SaslServer::handle(std::string_view line, bool first) {
    if (line == "*") return fail(SaslFailure::cancelled);
    if (line.size() > opt_.max_line) return fail(SaslFailure::too_long);
    std::optional<std::string> data;
    if (first && line == "=")
        data.emplace();
    else
        data = base64_decode(line);
    if (!data) return fail(SaslFailure::malformed);
    Wiper w(*data);
    if (pending_user_) {
        // The client acknowledges the final server data with an empty response.
        if (!data->empty()) return fail(SaslFailure::malformed);
        std::string user = std::move(*pending_user_);
        pending_user_.reset();
        done_ = true;
        return SaslSuccess{std::move(user), std::nullopt};
    }
    return on_data(*data, first);
}

SaslStep SaslServer::challenge(std::string_view raw) { return SaslChallenge{base64_encode(raw)}; }

SaslStep SaslServer::fail(SaslFailure f) {
    done_ = true;
    pending_user_.reset();
    continuation_ = nullptr;
    return SaslFailed{f};
}

SaslStep SaslServer::succeed(std::string user, std::optional<std::string> final_raw) {
    if (final_raw && !opt_.success_data_allowed) {
        pending_user_ = std::move(user);
        return SaslChallenge{base64_encode(*final_raw)};
    }
    done_ = true;
    std::optional<std::string> final_b64;
    if (final_raw) final_b64 = base64_encode(*final_raw);
    return SaslSuccess{std::move(user), std::move(final_b64)};
}

bool SaslServer::admitted(std::string_view account) {
    account_ = std::string(account);
    return !admission_ || admission_(account_);
}

// What a password login's off-loop work reads and writes; shared with it, never the server.
struct PasswordLookupResult {
    std::string login;
    std::string password;
    std::expected<std::string, SaslLookupError> user = std::unexpected(SaslLookupError::temporary);
    PasswordCheck check = PasswordCheck::temporary;
    ~PasswordLookupResult() { wipe(password); }
};

SaslStep SaslServer::check_password(std::string_view login, std::string_view password) {
    login_name_ = std::string(login);
    account_ = login_name_;
    if (login.empty() || password.empty()) return fail(SaslFailure::bad_credentials);
    if (!cb_.resolve_login || !cb_.verify_password) return fail(SaslFailure::temp_failure);
    auto st = std::make_shared<PasswordLookupResult>();
    st->login = std::string(login);
    st->password = std::string(password);
    // Two rounds: resolve the login, ask admission on the loop, only then verify.
    return defer([resolve = cb_.resolve_login, st] { st->user = resolve(st->login); },
                 [this, st]() -> SaslStep {
                     auto& user = st->user;
                     if (!user && user.error() == SaslLookupError::temporary) {
                         wipe(st->password);
                         return fail(SaslFailure::temp_failure);
                     }
                     if (!admitted(user ? std::string_view(*user) : st->login)) {
                         wipe(st->password);
                         return fail(SaslFailure::refused);
                     }
                     // Unknown users pay one hash too (the daemon's callback verifies a
                     // dummy), so the time to answer does not tell which users exist.
                     return defer(
                         [verify = cb_.verify_password, st] {
                             st->check = verify(st->user ? *st->user : st->login, st->password);
                             wipe(st->password);
                         },
                         [this, st] { return password_checked(*st); });
                 });
}

SaslStep SaslServer::password_checked(PasswordLookupResult& st) {
    if (!st.user) return fail(SaslFailure::bad_credentials);
    switch (st.check) {
    case PasswordCheck::ok:
        // Acting as somebody else is not supported: authzid must name the same user.
        if (!authzid_.empty() && authzid_ != st.login && authzid_ != *st.user)
            return fail(SaslFailure::bad_credentials);
        return succeed(std::move(*st.user));
    case PasswordCheck::mismatch: return fail(SaslFailure::bad_credentials);
    case PasswordCheck::temporary: return fail(SaslFailure::temp_failure);
    }
    return fail(SaslFailure::bad_credentials);
}

std::unique_ptr<SaslServer> make_sasl_server(std::string_view mechanism, const SaslCallbacks& cb,
                                             const SaslOptions& opt) {
    if (iequals(mechanism, "PLAIN")) return make_plain(cb, opt);
    if (iequals(mechanism, "LOGIN")) return make_login(cb, opt);
    if (iequals(mechanism, "SCRAM-SHA-256")) return make_scram_sha256(cb, opt);
    if (iequals(mechanism, "CRAM-MD5") && cb.cram_md5_secret) return make_cram_md5(cb, opt);
    return nullptr;
}

std::vector<std::string_view> sasl_mechanisms(bool tls_active, const SaslPolicy& policy) {
    std::vector<std::string_view> out{"SCRAM-SHA-256"};
    if (tls_active || policy.allow_plaintext) {
        out.push_back("PLAIN");
        out.push_back("LOGIN");
    }
    if (policy.cram_md5) out.push_back("CRAM-MD5");
    return out;
}

bool sasl_mechanism_allowed(std::string_view mechanism, bool tls_active, const SaslPolicy& policy) {
    for (auto m : sasl_mechanisms(tls_active, policy))
        if (iequals(m, mechanism)) return true;
    return false;
}

}  // namespace postern
