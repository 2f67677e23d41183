#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "ctl/cert.h"

using namespace postern::ctl;
namespace fs = std::filesystem;

TEST_CASE("make_self_signed_cert") {
    char tmpl[] = "/tmp/postern-cert-test-XXXXXX";
    fs::path dir = ::mkdtemp(tmpl);
    const auto cert_file = dir / "cert.pem", key_file = dir / "key.pem";

    auto r =
        make_self_signed_cert("mail.test", {"127.0.0.1", "::1", "0.0.0.0"}, cert_file, key_file);
    REQUIRE(r.has_value());

    struct stat st {};
    REQUIRE(::stat(key_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::unique_ptr<FILE, int (*)(FILE*)> cf(std::fopen(cert_file.c_str(), "r"), std::fclose);
    std::unique_ptr<FILE, int (*)(FILE*)> kf(std::fopen(key_file.c_str(), "r"), std::fclose);
    REQUIRE(cf);
    REQUIRE(kf);
    std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(cf.get(), nullptr, nullptr, nullptr),
                                                X509_free);
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
        PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    REQUIRE(cert);
    REQUIRE(key);
    CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
    CHECK(X509_check_host(cert.get(), "mail.test", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(cert.get(), "other.test", 0, 0, nullptr) != 1);
    // The listen addresses too (a client connecting to 127.0.0.1 checks that name), but not
    // the wildcard.
    CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "0.0.0.0", 0) != 1);
    CHECK(X509_check_ip_asc(cert.get(), "127.0.0.2", 0) != 1);
    CHECK(X509_verify(cert.get(), key.get()) == 1);  // self-signed
    // About ten years.
    int days = 0, secs = 0;
    REQUIRE(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert.get())) == 1);
    CHECK(days > 3640);
    CHECK(days <= 3650);

    SECTION("never overwrites an existing pair") {
        auto again = make_self_signed_cert("mail.test", {}, cert_file, key_file);
        CHECK_FALSE(again.has_value());
        CHECK(fs::exists(cert_file));
        CHECK(fs::exists(key_file));
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
}
