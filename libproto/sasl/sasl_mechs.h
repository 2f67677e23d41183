#pragma once
// Internal to the SASL implementation: per-mechanism constructors and the
// crypto helpers they share. Protocol code includes libproto/sasl/sasl.h only.

#include "libproto/sasl/sasl.h"
#include "libproto/core/secret.h"

#include <array>
#include <cstdint>

namespace postern::sasl_detail {

std::unique_ptr<SaslServer> make_plain(const SaslCallbacks& cb, const SaslOptions& opt);
std::unique_ptr<SaslServer> make_login(const SaslCallbacks& cb, const SaslOptions& opt);
std::unique_ptr<SaslServer> make_scram_sha256(const SaslCallbacks& cb, const SaslOptions& opt);
std::unique_ptr<SaslServer> make_cram_md5(const SaslCallbacks& cb, const SaslOptions& opt);

using Digest256 = std::array<uint8_t, 32>;

Digest256 hmac_sha256(std::string_view key, std::string_view data);
Digest256 sha256(std::string_view data);
std::string_view as_view(const Digest256& d);

// A server nonce: opt.nonce_source() if set, else 18 random bytes in base64.
std::string server_nonce(const SaslOptions& opt);
// The secret for fake credentials: opt.fake_user_secret, else a per-process random one.
std::string_view fake_secret(const SaslOptions& opt);

// RAII: wipes the string when the scope ends.
class Wiper {
public:
    explicit Wiper(std::string& s) : s_(s) {}
    ~Wiper() { wipe(s_); }
    Wiper(const Wiper&) = delete;
    Wiper& operator=(const Wiper&) = delete;

private:
    std::string& s_;
};

}  // namespace postern::sasl_detail
