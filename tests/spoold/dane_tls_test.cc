// spoold/dane_tls: OpenSSL's DANE check over an in-memory handshake (a BIO pair, no
// network): generated certificates; DANE-EE 3 1 1 / 3 0 1 matching -> handshake OK whatever
// the names; a wrong digest -> the handshake fails; DANE-TA 2 1 1 on the issuing CA -> OK when
// the leaf names the TLSA base domain, fails when it does not (RFC 7672 3.1.1, 3.2.2).
#include "spoold/dane_tls.h"

#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "libproto/net/tls.h"

using namespace postern;

namespace {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Key make_key() { return Key(EVP_EC_gen("P-256")); }

// A certificate for `name` (CN and DNS SAN) with `key`, signed by `issuer_key` (self-signed
// when `issuer` is null). `ca`: basicConstraints CA:TRUE.
Cert make_cert(const std::string& name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
               bool ca) {
    Cert x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
    X509_set_pubkey(x.get(), key);
    X509_NAME* n = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
    auto add = [&](int nid, const std::string& value) {
        X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
        REQUIRE(e);
        X509_add_ext(x.get(), e, -1);
        X509_EXTENSION_free(e);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (!ca) add(NID_subject_alt_name, "DNS:" + name);
    REQUIRE(X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

std::string sha256(const std::string& der) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), md);
    return std::string(reinterpret_cast<char*>(md), sizeof md);
}
std::string spki_der(X509* x) {
    unsigned char* buf = nullptr;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &buf);
    std::string out(reinterpret_cast<char*>(buf), n);
    OPENSSL_free(buf);
    return out;
}
std::string cert_der(X509* x) {
    unsigned char* buf = nullptr;
    int n = i2d_X509(x, &buf);
    std::string out(reinterpret_cast<char*>(buf), n);
    OPENSSL_free(buf);
    return out;
}

struct Server {
    Key key = make_key();
    Key ca_key;
    Cert ca, leaf;
    // A self-signed leaf for `name`, or (with_ca) a leaf issued by a CA that is sent along.
    Server(const std::string& name, bool with_ca) {
        if (with_ca) {
            ca_key = make_key();
            ca = make_cert("Test DANE CA", ca_key.get(), nullptr, nullptr, true);
            leaf = make_cert(name, key.get(), ca.get(), ca_key.get(), false);
        } else {
            leaf = make_cert(name, key.get(), nullptr, nullptr, false);
        }
    }
    SslCtxPtr context() const {
        SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
        REQUIRE(SSL_CTX_use_certificate(ctx.get(), leaf.get()) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), key.get()) == 1);
        if (ca) {
            X509_up_ref(ca.get());
            REQUIRE(SSL_CTX_add_extra_chain_cert(ctx.get(), ca.get()) == 1);
        }
        return ctx;
    }
};

struct Outcome {
    bool ok = false;
    std::string match;  // dane_match_text
    std::string armed_error;
};

// The client does what SmtpClientConnection does: ClientHello out, then dane_arm, then the
// rest of the handshake.
Outcome handshake(const Server& srv, const DaneTls& dane, const std::string& sni) {
    auto sctx = srv.context();
    auto cctx = make_client_tls(false);
    REQUIRE(cctx.has_value());
    REQUIRE(dane_enable_context(cctx->get()));
    REQUIRE(dane_enable_context(cctx->get()));  // a second call is harmless
    SslPtr s(SSL_new(sctx.get())), c(SSL_new(cctx->get()));
    BIO *cb = nullptr, *sb = nullptr;
    REQUIRE(BIO_new_bio_pair(&cb, 0, &sb, 0) == 1);
    SSL_set_bio(c.get(), cb, cb);
    SSL_set_bio(s.get(), sb, sb);
    SSL_set_connect_state(c.get());
    SSL_set_accept_state(s.get());
    SSL_set_tlsext_host_name(c.get(), sni.c_str());
    Outcome out;
    REQUIRE(SSL_do_handshake(c.get()) <= 0);  // the ClientHello is out
    if (auto a = dane_arm(c.get(), dane); !a) {
        out.armed_error = a.error();
        return out;
    }
    bool cdone = false, sdone = false, failed = false;
    for (int i = 0; i < 50 && !(cdone && sdone) && !failed; ++i) {
        for (auto [ssl, done] : {std::pair{c.get(), &cdone}, std::pair{s.get(), &sdone}}) {
            if (*done) continue;
            int r = SSL_do_handshake(ssl);
            if (r == 1) {
                *done = true;
            } else {
                int e = SSL_get_error(ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) failed = true;
            }
        }
    }
    ERR_clear_error();
    out.ok = cdone && !failed;
    out.match = dane_match_text(c.get());
    return out;
}

}  // namespace

TEST_CASE("dane tls: DANE-EE matches the key or the certificate, names not checked") {
    Server srv("some-other-name.test", false);
    auto spki = sha256(spki_der(srv.leaf.get()));
    auto cert = sha256(cert_der(srv.leaf.get()));

    SECTION("3 1 1 right") {
        auto o = handshake(srv, {"mx.dane.test", {{3, 1, 1, spki}}}, "mx.dane.test");
        CHECK(o.ok);
        CHECK(o.match == "TLSA 3 1 1 matched at depth 0");
    }
    SECTION("3 0 1 right, beside a wrong 3 1 1") {
        std::string wrong = spki;
        wrong[0] ^= 1;
        auto o =
            handshake(srv, {"mx.dane.test", {{3, 1, 1, wrong}, {3, 0, 1, cert}}}, "mx.dane.test");
        CHECK(o.ok);
        CHECK(o.match == "TLSA 3 0 1 matched at depth 0");
    }
    SECTION("3 1 1 wrong digest: the handshake fails") {
        std::string wrong = spki;
        wrong[31] ^= 0x80;
        auto o = handshake(srv, {"mx.dane.test", {{3, 1, 1, wrong}}}, "mx.dane.test");
        CHECK_FALSE(o.ok);
        CHECK(o.match.empty());
    }
    SECTION("no record OpenSSL can use") {
        auto o = handshake(srv, {"mx.dane.test", {{3, 1, 1, "short"}}}, "mx.dane.test");
        CHECK(o.armed_error == "no TLSA record usable by OpenSSL");
    }
}

TEST_CASE("dane tls: DANE-TA on the issuer checks the leaf's name against the base domain") {
    SECTION("the leaf names the MX host") {
        Server srv("mx.dane.test", true);
        auto ta = sha256(spki_der(srv.ca.get()));
        auto o = handshake(srv, {"mx.dane.test", {{2, 1, 1, ta}}}, "mx.dane.test");
        CHECK(o.ok);
        CHECK(o.match == "TLSA 2 1 1 matched at depth 1");
    }
    SECTION("the leaf names another host") {
        Server srv("elsewhere.test", true);
        auto ta = sha256(spki_der(srv.ca.get()));
        auto o = handshake(srv, {"mx.dane.test", {{2, 1, 1, ta}}}, "mx.dane.test");
        CHECK_FALSE(o.ok);
    }
    SECTION("the wrong trust anchor") {
        Server srv("mx.dane.test", true);
        auto leaf = sha256(spki_der(srv.leaf.get()));  // the leaf's key as a TA record
        Server other("mx.dane.test", true);
        auto o = handshake(other, {"mx.dane.test", {{2, 1, 1, leaf}}}, "mx.dane.test");
        CHECK_FALSE(o.ok);
    }
}
