// OpenSSL's DANE API for outbound SMTP.
#include "spoold/dane_tls.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "libproto/net/tls.h"

namespace postern {

bool dane_enable_context(SSL_CTX* ctx) {
    return SSL_CTX_dane_enable(ctx) > 0;  // returns 1 again once enabled
}

std::expected<void, std::string> dane_arm(SSL* ssl, const DaneTls& d) {
    if (SSL_dane_enable(ssl, d.base.c_str()) <= 0)
        return std::unexpected(tls_error_text("SSL_dane_enable failed"));
    // RFC 7672 3.1.1: with DANE-EE(3) the names in the certificate are not checked.
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int added = 0;
    for (const auto& r : d.records) {
        int rc =
            SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching,
                              reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size());
        if (rc > 0) ++added;  // 0: unusable, < 0: malformed (a DANE-TA(2) 0 0 not a certificate)
    }
    ERR_clear_error();
    if (added == 0) return std::unexpected(std::string("no TLSA record usable by OpenSSL"));
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    return {};
}

std::string dane_match_text(SSL* ssl) {
    uint8_t usage = 0, selector = 0, mtype = 0;
    const unsigned char* data = nullptr;
    size_t dlen = 0;
    int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &dlen);
    if (depth < 0 || SSL_get_verify_result(ssl) != X509_V_OK) return "";
    return "TLSA " + std::to_string(usage) + " " + std::to_string(selector) + " " +
           std::to_string(mtype) + " matched at depth " + std::to_string(depth);
}

}  // namespace postern
