// SCRAM-SHA-256 server (RFC 5802, RFC 7677). No channel binding (no -PLUS).
#include "libproto/core/base64.h"
#include "libproto/sasl/sasl_mechs.h"
#include "libproto/core/secret.h"

#include <openssl/crypto.h>

#include <charconv>

namespace postern::sasl_detail {

namespace {

constexpr size_t max_username = 512;
constexpr size_t max_nonce = 256;

// saslname: "=2C" -> ',', "=3D" -> '='; any other '=' or a raw ',' is an error.
std::optional<std::string> decode_saslname(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ',' || c == '\0') return std::nullopt;
        if (c != '=') {
            out += c;
            continue;
        }
        std::string_view esc = s.substr(i + 1, 2);
        if (esc == "2C")
            out += ',';
        else if (esc == "3D")
            out += '=';
        else
            return std::nullopt;
        i += 2;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// printable = %x21-2B / %x2D-7E
bool printable_nonce(std::string_view s) {
    if (s.empty() || s.size() > max_nonce) return false;
    for (unsigned char c : s)
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    return true;
}

// Splits "a=x,b=y,..." into its attributes.
std::vector<std::string_view> split_commas(std::string_view s) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (true) {
        size_t c = s.find(',', pos);
        out.push_back(s.substr(pos, c == std::string_view::npos ? s.npos : c - pos));
        if (c == std::string_view::npos) break;
        pos = c + 1;
    }
    return out;
}

// "x=value" with the expected attribute letter.
std::optional<std::string_view> attr(std::string_view part, char name) {
    if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
    return part.substr(2);
}

class ScramServer final : public SaslServer {
public:
    ScramServer(const SaslCallbacks& cb, const SaslOptions& opt)
        : SaslServer("SCRAM-SHA-256", cb, opt) {}
    ~ScramServer() override {
        wipe(keys_.stored_key.data(), keys_.stored_key.size());
        wipe(keys_.server_key.data(), keys_.server_key.size());
    }

private:
    enum class State { client_first, client_final, finished };

    SaslStep on_start_without_data() override { return challenge(""); }

    SaslStep on_data(std::string_view data, bool) override {
        switch (state_) {
        case State::client_first: return client_first(data);
        case State::client_final: return client_final(data);
        case State::finished: break;
        }
        return fail(SaslFailure::malformed);
    }

    // client-first-message = gs2-header client-first-message-bare
    // gs2-header = ("n" / "y") "," [ "a=" saslname ] ","
    // client-first-message-bare = [reserved-mext ","] "n=" saslname "," "r=" c-nonce ["," ext]
    SaslStep client_first(std::string_view msg) {
        auto parts = split_commas(msg);
        if (parts.size() < 4) return fail(SaslFailure::malformed);
        // "p=..." would need channel binding, which is never advertised; "y" means the
        // client could do it but believes we cannot, which is true, so it is fine.
        if (parts[0] != "n" && parts[0] != "y") return fail(SaslFailure::malformed);
        std::optional<std::string> authzid;
        if (!parts[1].empty()) {
            auto a = attr(parts[1], 'a');
            if (!a) return fail(SaslFailure::malformed);
            authzid = decode_saslname(*a);
            if (!authzid) return fail(SaslFailure::malformed);
        }
        gs2_header_ = std::string(msg.substr(0, parts[0].size() + parts[1].size() + 2));
        // parts[2] starts the bare message; "m=" (reserved-mext) must fail.
        auto n = attr(parts[2], 'n');
        if (!n || n->size() > max_username) return fail(SaslFailure::malformed);
        auto username = decode_saslname(*n);
        if (!username) return fail(SaslFailure::malformed);
        auto r = attr(parts[3], 'r');
        if (!r || !printable_nonce(*r)) return fail(SaslFailure::malformed);
        // No extensions are defined for SCRAM-SHA-256 today: refuse any.
        if (parts.size() != 4) return fail(SaslFailure::malformed);
        if (authzid && *authzid != *username) return fail(SaslFailure::bad_credentials);
        login_name_ = *username;
        client_first_bare_ = std::string(msg.substr(gs2_header_.size()));
        if (!cb_.resolve_login || !cb_.scram_credentials) return fail(SaslFailure::temp_failure);
        // The lookups may run on the daemon's pool: the work sees only `st`.
        auto st = std::make_shared<Lookup>();
        st->username = *username;
        return defer(
            [resolve = cb_.resolve_login, keys = cb_.scram_credentials, st] {
                st->user = resolve(st->username);
                if (st->user) st->keys = keys(*st->user);
            },
            [this, st, cnonce = std::string(*r)] { return keys_loaded(*st, cnonce); });
    }

    struct Lookup {
        std::string username;
        std::expected<std::string, SaslLookupError> user =
            std::unexpected(SaslLookupError::temporary);
        std::expected<ScramKeys, SaslLookupError> keys =
            std::unexpected(SaslLookupError::not_found);
    };

    SaslStep keys_loaded(Lookup& st, const std::string& cnonce) {
        if (auto f = load_keys(st); f) return *f;
        if (!admitted(resolved_.empty() ? st.username : resolved_))
            return fail(SaslFailure::refused);
        std::string snonce = server_nonce(opt_);
        nonce_ = cnonce + snonce;
        server_first_ = "r=" + nonce_ + ",s=" + base64_encode(keys_.salt) +
                        ",i=" + std::to_string(keys_.iterations);
        state_ = State::client_final;
        return challenge(server_first_);
    }

    // Fills keys_ (real or fake); returns a failure step on a temporary error.
    std::optional<SaslStep> load_keys(Lookup& st) {
        const std::string& username = st.username;
        auto& user = st.user;
        if (user) {
            resolved_ = *user;
            auto& k = st.keys;
            if (k && k->iterations > 0) {
                keys_ = std::move(*k);
                user_ = std::move(*user);
                return std::nullopt;
            }
            if (!k && k.error() == SaslLookupError::temporary)
                return fail(SaslFailure::temp_failure);
        } else if (user.error() == SaslLookupError::temporary) {
            return fail(SaslFailure::temp_failure);
        }
        // Unknown user (or no SCRAM keys): carry on with keys derived from the
        // name and a server secret, so the reply looks like a real user's
        // (stable salt, same iteration count) and the proof can never verify.
        fake_ = true;
        std::string_view secret = fake_secret(opt_);
        auto tagged = [&](std::string_view tag) { return std::string(tag) + '\0' + username; };
        auto salt = hmac_sha256(secret, tagged("salt"));
        keys_.salt.assign(reinterpret_cast<const char*>(salt.data()), scram_salt_bytes);
        keys_.iterations = opt_.fake_iterations ? opt_.fake_iterations : scram_default_iterations;
        keys_.stored_key = hmac_sha256(secret, tagged("stored"));
        keys_.server_key = hmac_sha256(secret, tagged("server"));
        return std::nullopt;
    }

    // client-final-message = "c=" base64(gs2-header) "," "r=" nonce ["," ext] "," "p=" proof
    SaslStep client_final(std::string_view msg) {
        state_ = State::finished;
        size_t pp = msg.rfind(",p=");
        if (pp == std::string_view::npos) return fail(SaslFailure::malformed);
        std::string_view without_proof = msg.substr(0, pp);
        auto proof = base64_decode(msg.substr(pp + 3));
        if (!proof || proof->size() != 32) return fail(SaslFailure::malformed);
        auto parts = split_commas(without_proof);
        if (parts.size() < 2) return fail(SaslFailure::malformed);
        auto c = attr(parts[0], 'c');
        if (!c || *c != base64_encode(gs2_header_)) return fail(SaslFailure::malformed);
        auto r = attr(parts[1], 'r');
        if (!r || *r != nonce_) return fail(SaslFailure::malformed);
        if (parts.size() != 2) return fail(SaslFailure::malformed);

        std::string auth_message =
            client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
        std::string stored(as_view(keys_.stored_key));
        Digest256 client_sig = hmac_sha256(stored, auth_message);
        Digest256 client_key{};
        for (size_t i = 0; i < 32; ++i) client_key[i] = uint8_t(proof->at(i)) ^ client_sig[i];
        Digest256 check = sha256(as_view(client_key));
        bool ok = CRYPTO_memcmp(check.data(), keys_.stored_key.data(), 32) == 0;
        wipe(client_key.data(), client_key.size());
        wipe(client_sig.data(), client_sig.size());
        wipe(stored);
        if (!ok || fake_) return fail(SaslFailure::bad_credentials);

        std::string server_key(as_view(keys_.server_key));
        Digest256 server_sig = hmac_sha256(server_key, auth_message);
        wipe(server_key);
        return succeed(std::move(user_), "v=" + base64_encode(as_view(server_sig)));
    }

    State state_ = State::client_first;
    std::string gs2_header_;
    std::string client_first_bare_;
    std::string server_first_;
    std::string nonce_;
    std::string user_;
    std::string resolved_;  // canonical user, even without SCRAM keys (the budget key)
    ScramKeys keys_;
    bool fake_ = false;
};

}  // namespace

std::unique_ptr<SaslServer> make_scram_sha256(const SaslCallbacks& cb, const SaslOptions& opt) {
    return std::make_unique<ScramServer>(cb, opt);
}

}  // namespace postern::sasl_detail
