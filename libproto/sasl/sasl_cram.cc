// CRAM-MD5 (RFC 2195). Off by default: it needs plaintext-equivalent secrets.
#include "libproto/sasl/sasl_mechs.h"
#include "libproto/core/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace postern::sasl_detail {

namespace {

class CramMd5Server final : public SaslServer {
public:
    CramMd5Server(const SaslCallbacks& cb, const SaslOptions& opt)
        : SaslServer("CRAM-MD5", cb, opt) {}

private:
    SaslStep on_start_without_data() override {
        challenge_ = "<" + server_nonce(opt_) + "@" + opt_.hostname + ">";
        return challenge(challenge_);
    }

    // response = user SP 32 lowercase hex digits of HMAC-MD5(secret, challenge)
    SaslStep on_data(std::string_view data, bool first) override {
        if (first || challenge_.empty()) return fail(SaslFailure::malformed);  // server-first
        size_t sp = data.rfind(' ');
        if (sp == std::string_view::npos || sp == 0 || data.size() - sp - 1 != 32)
            return fail(SaslFailure::malformed);
        std::string_view login = data.substr(0, sp);
        std::string_view digest = data.substr(sp + 1);
        for (char c : digest)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return fail(SaslFailure::malformed);
        login_name_ = std::string(login);
        if (!cb_.resolve_login || !cb_.cram_md5_secret) return fail(SaslFailure::temp_failure);

        std::string user;
        std::string secret;
        bool known = false;
        if (auto u = cb_.resolve_login(login)) {
            auto s = cb_.cram_md5_secret(*u);
            if (s) {
                user = std::move(*u);
                secret = std::move(*s);
                known = true;
            } else if (s.error() == SaslLookupError::temporary) {
                return fail(SaslFailure::temp_failure);
            }
        } else if (u.error() == SaslLookupError::temporary) {
            return fail(SaslFailure::temp_failure);
        }
        Wiper w(secret);
        if (!admitted(known ? std::string_view(user) : login)) return fail(SaslFailure::refused);
        if (!known) secret = std::string(fake_secret(opt_));  // same work for unknown users

        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        HMAC(EVP_md5(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(challenge_.data()), challenge_.size(), mac,
             &len);
        static constexpr char hex[] = "0123456789abcdef";
        char want[32];
        for (unsigned i = 0; i < 16; ++i) {
            want[2 * i] = hex[mac[i] >> 4];
            want[2 * i + 1] = hex[mac[i] & 15];
        }
        bool ok = len == 16 && CRYPTO_memcmp(want, digest.data(), 32) == 0;
        wipe(mac, sizeof mac);
        wipe(want, sizeof want);
        if (!ok || !known) return fail(SaslFailure::bad_credentials);
        return succeed(std::move(user));
    }

    std::string challenge_;
};

}  // namespace

std::unique_ptr<SaslServer> make_cram_md5(const SaslCallbacks& cb, const SaslOptions& opt) {
    return std::make_unique<CramMd5Server>(cb, opt);
}

}  // namespace postern::sasl_detail
