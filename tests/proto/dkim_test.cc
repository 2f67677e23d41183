// DKIM signing pieces: relaxed canonicalization (RFC 6376 3.4.2, 3.4.4) fed in chunks, the
// header parser and field selection, keys, and RFC 8463's ed25519-sha256 example (A.3),
// whose signature is deterministic and so checks canonicalization and signing end to end.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "libproto/core/base64.h"
#include "libproto/dkim/dkim_canon.h"
#include "libproto/dkim/dkim_header_fields.h"
#include "libproto/dkim/dkim_key.h"
#include "libproto/dkim/dkim_key_dir.h"
#include "libproto/dkim/dkim_message.h"
#include "libproto/dkim/dkim_signer.h"

using namespace postern;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/postern-dkim-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// RFC 8463 appendix A: the message (A.2's, RFC 6376's Joe SixPack) and the Ed25519 key.
const std::string kRfcMessage =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";
constexpr const char* kRfcSeed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
constexpr const char* kRfcPublic = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* kRfcBodyHash = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=";
constexpr const char* kRfcEd25519B =
    "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
// The A.3 signature field's value with b= empty, folded as printed there.
const std::string kRfcSignatureValue =
    " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=";

std::string relaxed_body(std::string_view body, size_t chunk) {
    std::string out;
    RelaxedBody rb([&out](std::string_view s) { out.append(s); });
    if (chunk == 0) chunk = body.size() + 1;
    for (size_t at = 0; at < body.size(); at += chunk) rb.feed(body.substr(at, chunk));
    rb.finish();
    CHECK(rb.canonical_size() == out.size());
    return out;
}

// bh= of a whole message fed `chunk` octets at a time (0: at once).
std::string body_hash(std::string_view message, size_t chunk) {
    DkimMessage m;
    if (chunk == 0) chunk = message.size() + 1;
    for (size_t at = 0; at < message.size(); at += chunk)
        REQUIRE(m.feed(message.substr(at, chunk)));
    REQUIRE(m.finish());
    return m.body_hash();
}

DkimKey rfc_key() {
    auto seed = base64_decode(kRfcSeed);
    REQUIRE(seed);
    auto key = DkimKey::ed25519_from_seed(*seed);
    REQUIRE(key);
    return std::move(*key);
}

// Verifies `sig` over `data` with the key's public half, as a receiver would.
bool verify(const DkimKey& key, std::string_view data, std::string_view sig) {
    auto p = base64_decode(key.public_key_base64());
    REQUIRE(p);
    EVP_PKEY* pub = nullptr;
    if (key.type() == DkimKeyType::ed25519) {
        pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(p->data()), 32);
    } else {
        auto der = reinterpret_cast<const unsigned char*>(p->data());
        pub = d2i_PUBKEY(nullptr, &der, long(p->size()));
    }
    REQUIRE(pub);
    std::string input(data);
    const EVP_MD* md = EVP_sha256();
    if (key.type() == DkimKeyType::ed25519) {
        unsigned char d[32];
        unsigned len = 0;
        EVP_Digest(data.data(), data.size(), d, &len, EVP_sha256(), nullptr);
        input.assign(reinterpret_cast<char*>(d), len);
        md = nullptr;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pub) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    return ok;
}

// The value of tag `name` in a DKIM-Signature field (unfolded, white space removed).
std::string tag(std::string_view field, std::string_view name) {
    std::string flat;
    for (char c : field.substr(field.find(':') + 1))
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') flat += c;
    std::string key = std::string(name) + "=";
    size_t at = 0;
    while ((at = flat.find(key, at)) != std::string::npos) {
        if (at == 0 || flat[at - 1] == ';') {
            size_t end = flat.find(';', at);
            return flat.substr(at + key.size(), end == std::string::npos ? std::string::npos
                                                                         : end - at - key.size());
        }
        ++at;
    }
    return "<none>";
}

}  // namespace

TEST_CASE("dkim: relaxed header canonicalization") {
    struct Case {
        const char* label;
        std::string name, value, want;
    };
    auto c = GENERATE(
        Case{"name lower-cased", "SUBJect", " Hi", "subject:Hi\r\n"},
        Case{"white space around the colon", "Subject \t", " \t Hi", "subject:Hi\r\n"},
        Case{"runs made one SP", "To", " a  \t b", "to:a b\r\n"},
        Case{"trailing white space", "To", " a b \t ", "to:a b\r\n"},
        Case{"folded", "Subject", " first\r\n\tsecond\r\n   third",
             "subject:first second third\r\n"},
        Case{"fold right after the colon", "X", "\r\n value", "x:value\r\n"},
        Case{"empty value", "X", "", "x:\r\n"}, Case{"only white space", "X", " \t\r\n ", "x:\r\n"},
        Case{"8-bit octets kept", "Subject", " caf\xc3\xa9  au lait",
             "subject:caf\xc3\xa9 au lait\r\n"},
        Case{"a bare LF is not a fold", "X", " a\nb", "x:a\nb\r\n"});
    DYNAMIC_SECTION(c.label) {
        std::string got;
        append_relaxed_header(c.name, c.value, got);
        INFO("got " << got << ", want " << c.want);
        CHECK(got == c.want);
    }
}

TEST_CASE("dkim: relaxed body canonicalization, whole and split at every point") {
    struct Case {
        const char* label;
        std::string body, want;
    };
    auto c = GENERATE(
        Case{"empty body stays empty", "", ""}, Case{"only CRLFs is empty", "\r\n\r\n\r\n", ""},
        Case{"only white space lines is empty", " \r\n\t\r\n  \r\n", ""},
        Case{"missing final CRLF added", "abc", "abc\r\n"},
        Case{"trailing empty lines dropped", "a\r\n\r\n\r\n", "a\r\n"},
        Case{"inner empty lines kept", "a\r\n\r\n\r\nb\r\n\r\n", "a\r\n\r\n\r\nb\r\n"},
        Case{"white space at line end dropped", "a \t \r\nb\t\r\n", "a\r\nb\r\n"},
        Case{"runs made one SP", "a  \t b\r\n", "a b\r\n"},
        Case{"leading white space becomes one SP", "   a\r\n\tb\r\n", " a\r\n b\r\n"},
        Case{"white-space-only line inside is empty", "a\r\n  \r\nb\r\n", "a\r\n\r\nb\r\n"},
        Case{"RFC 6376 3.4.6 example", " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},
        Case{"bare CR is text", "a\rb\r\n", "a\rb\r\n"},
        Case{"bare CR before CRLF", "a \r\r\n", "a \r\r\n"},
        Case{"CR at the very end", "a\r", "a\r\r\n"},
        Case{"lone LF is text", "a  \nb\r\n", "a \nb\r\n"},
        Case{"8-bit body", "caf\xc3\xa9\xff  x\r\n", "caf\xc3\xa9\xff x\r\n"});
    DYNAMIC_SECTION(c.label) {
        INFO("whole");
        CHECK(relaxed_body(c.body, 0) == c.want);
        INFO("one octet at a time");
        CHECK(relaxed_body(c.body, 1) == c.want);
        for (size_t split = 1; split < c.body.size(); ++split) {
            std::string out;
            RelaxedBody rb([&out](std::string_view s) { out.append(s); });
            rb.feed(std::string_view(c.body).substr(0, split));
            rb.feed(std::string_view(c.body).substr(split));
            rb.finish();
            INFO("split at " << split << ": got " << out);
            CHECK(out == c.want);
        }
    }
}

TEST_CASE("dkim: the body canonicalizer streams a large body in bounded pieces") {
    std::string body;
    for (int i = 0; i < 20000; ++i) body += "line  " + std::to_string(i) + "   \r\n";
    body += std::string(50000, '\r') + "\r\n";  // CRs then CRLF pairs (the last is "\r\r\n")
    for (int i = 0; i < 30000; ++i) body += "\r\n";
    size_t biggest = 0;
    std::string out;
    RelaxedBody rb([&](std::string_view s) {
        biggest = std::max(biggest, s.size());
        out.append(s);
    });
    for (size_t at = 0; at < body.size(); at += 7919)
        rb.feed(std::string_view(body).substr(at, 7919));
    rb.finish();
    CHECK(biggest <= 16 * 1024 + 2);
    CHECK(out == relaxed_body(body, 1));
    CHECK(out.ends_with("\r\r\n"));
}

TEST_CASE("dkim: body hashes (RFC 8463 A.3 bh=, the empty body)") {
    auto chunk = GENERATE(size_t(0), size_t(1), size_t(2), size_t(3), size_t(17), size_t(64));
    DYNAMIC_SECTION("chunk " << chunk) {
        CHECK(body_hash(kRfcMessage, chunk) == kRfcBodyHash);
        // RFC 6376 3.4.4 as corrected (errata 1384): an empty relaxed body hashes "".
        constexpr const char* kEmpty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        CHECK(body_hash("Subject: x\r\n\r\n", chunk) == kEmpty);
        CHECK(body_hash("Subject: x\r\n\r\n\r\n\r\n", chunk) == kEmpty);
        CHECK(body_hash("Subject: x\r\n", chunk) == kEmpty);  // no empty line: all header
        CHECK(body_hash("\r\n\r\n", chunk) == kEmpty);
    }
}

TEST_CASE("dkim: header fields, folding and selection from the bottom") {
    std::string header =
        "Received: from a\r\n\tby b\r\n"
        "From: first <a@example.com>\r\n"
        "not a field line\r\n"
        " continuation of nothing\r\n"
        "Subject: one\r\n"
        "subject: two\r\n  folded\r\n"
        "Bad Name: x\r\n"
        "X-Empty:\r\n"
        "\r\n"
        "Body: not a header\r\n";
    auto end = header_end(header);
    REQUIRE(end);
    CHECK(header.substr(*end) == "Body: not a header\r\n");
    auto fields = parse_header_fields(header);
    REQUIRE(fields.size() == 5);
    CHECK(fields[0].name == "Received");
    CHECK(fields[0].value == " from a\r\n\tby b");
    CHECK(fields[1].name == "From");
    CHECK(fields[3].value == " two\r\n  folded");
    CHECK(fields[4].name == "X-Empty");
    CHECK(fields[4].value.empty());

    auto picked = select_fields(fields, {"subject", "from", "subject", "subject", "to"});
    REQUIRE(picked.size() == 3);
    CHECK(picked[0]->value == " two\r\n  folded");  // the last Subject first
    CHECK(picked[1]->name == "From");
    CHECK(picked[2]->value == " one");

    auto names = dkim_signed_names(fields);
    CHECK(names == std::vector<std::string>{"from", "subject", "subject", "from"});
    CHECK(dkim_from_domain(fields) == "example.com");
    CHECK(header_end("no end yet\r\n") == std::nullopt);
    CHECK(header_end("\r\nbody") == 2u);
}

TEST_CASE("dkim: the From domain") {
    struct Case {
        const char* label;
        std::string header;
        std::optional<std::string> want;
    };
    auto c =
        GENERATE(Case{"plain", "From: a@Example.COM\r\n", "example.com"},
                 Case{"display name, folded", "From: \"Joe, Q.\"\r\n <joe@Sub.Example.org>\r\n",
                      "sub.example.org"},
                 Case{"first of several", "From: a@one.example, b@two.example\r\n", "one.example"},
                 Case{"group", "From: team: x@grp.example;\r\n", "grp.example"},
                 Case{"no domain", "From: nobody\r\n", std::nullopt},
                 Case{"no From", "Sender: a@b.example\r\n", std::nullopt});
    DYNAMIC_SECTION(c.label) { CHECK(dkim_from_domain(parse_header_fields(c.header)) == c.want); }
}

TEST_CASE("dkim: RFC 8463 A.3 ed25519-sha256 signature, exactly") {
    DkimKey key = rfc_key();
    CHECK(key.type() == DkimKeyType::ed25519);
    CHECK(key.public_key_base64() == kRfcPublic);
    CHECK(key.dns_record() == std::string("v=DKIM1; k=ed25519; p=") + kRfcPublic);
    auto fields = parse_header_fields(kRfcMessage);
    std::vector<std::string> names = {"from",       "to",   "subject", "date",
                                      "message-id", "from", "subject", "date"};
    std::string data = dkim_signed_data(fields, names, kRfcSignatureValue);
    auto sig = key.sign(data);
    REQUIRE(sig);
    CHECK(base64_encode(*sig) == kRfcEd25519B);
}

TEST_CASE("dkim: the signature field of both key types verifies and is folded") {
    auto type = GENERATE(DkimKeyType::ed25519, DkimKeyType::rsa);
    DYNAMIC_SECTION((type == DkimKeyType::rsa ? "rsa" : "ed25519")) {
        auto key = DkimKey::generate(type, 2048);
        REQUIRE(key);
        if (type == DkimKeyType::rsa) CHECK(key->bits() == 2048);
        std::string msg =
            "Received: from x\r\n"
            "From: Someone With A Long Name <someone@example.com>\r\n"
            "To: a@example.net,\r\n b@example.net\r\n"
            "Subject: hello\r\n"
            "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
            "Message-ID: <1@example.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            "body\r\n";
        DkimMessage m;
        REQUIRE(m.feed(msg));
        REQUIRE(m.finish());
        DkimSignParams p{"example.com", "sel2026", 1764583200};
        auto field = dkim_signature_field(*key, p, m.fields(), m.body_hash());
        REQUIRE(field);
        INFO(*field);
        CHECK(field->starts_with("DKIM-Signature: v=1; a=" + std::string(key->algorithm()) +
                                 "; c=relaxed/relaxed; d=example.com;"));
        CHECK(field->ends_with("\r\n"));
        for (size_t at = 0, nl; (nl = field->find("\r\n", at)) != std::string::npos; at = nl + 2) {
            CHECK(nl - at <= 78);
            if (at > 0) CHECK((*field)[at] == '\t');
        }
        CHECK(tag(*field, "s") == "sel2026");
        CHECK(tag(*field, "t") == "1764583200");
        CHECK(tag(*field, "bh") == m.body_hash());
        CHECK(tag(*field, "h") == "from:to:subject:date:message-id:mime-version:content-type:from");
        // Rebuild what a verifier hashes: the field with b= emptied.
        size_t b = field->rfind("b=");
        std::string value = field->substr(15, b + 2 - 15);
        auto sig = base64_decode(tag(*field, "b"));
        REQUIRE(sig);
        auto names = dkim_signed_names(m.fields());
        CHECK(verify(*key, dkim_signed_data(m.fields(), names, value), *sig));
        CHECK_FALSE(verify(*key, dkim_signed_data(m.fields(), names, value + "x"), *sig));
    }
}

TEST_CASE("dkim: keys load from PEM, weak and foreign keys are refused") {
    auto ed = DkimKey::generate(DkimKeyType::ed25519, 0);
    REQUIRE(ed);
    auto pem = ed->private_pem();
    REQUIRE(pem);
    CHECK(pem->starts_with("-----BEGIN PRIVATE KEY-----"));
    auto back = DkimKey::from_pem(*pem);
    REQUIRE(back);
    CHECK(back->public_key_base64() == ed->public_key_base64());

    auto rsa = DkimKey::generate(DkimKeyType::rsa, 1024);
    REQUIRE(rsa);
    CHECK(
        rsa->dns_record().starts_with("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"));
    CHECK_FALSE(DkimKey::generate(DkimKeyType::rsa, 512));
    CHECK_FALSE(DkimKey::generate(DkimKeyType::rsa, 16384));

    // A 512-bit RSA key and a P-256 key, made with OpenSSL directly.
    auto pem_of = [](EVP_PKEY* k) {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
        char* d = nullptr;
        long n = BIO_get_mem_data(bio, &d);
        std::string out(d, size_t(n));
        BIO_free(bio);
        EVP_PKEY_free(k);
        return out;
    };
    auto weak = DkimKey::from_pem(pem_of(EVP_RSA_gen(512)));
    REQUIRE_FALSE(weak);
    CHECK(weak.error().find("too weak") != std::string::npos);
    auto ec = DkimKey::from_pem(pem_of(EVP_EC_gen("P-256")));
    REQUIRE_FALSE(ec);
    CHECK(ec.error() == "not an RSA or Ed25519 key");
    CHECK_FALSE(DkimKey::from_pem("garbage"));
}

TEST_CASE("dkim: the key directory: layout, modes, the active selector") {
    TempDir tmp;
    std::filesystem::path dir = dkim_key_dir(tmp.path);
    CHECK(dkim_list_keys(dir).empty());
    auto key = DkimKey::generate(DkimKeyType::ed25519, 0);
    REQUIRE(key);
    auto write = [&](const std::string& domain, const std::string& sel, mode_t mode) {
        std::filesystem::create_directories(dir / domain);
        auto path = dir / domain / (sel + ".key");
        std::ofstream(path) << *key->private_pem();
        ::chmod(path.c_str(), mode);
        return path;
    };
    auto a = write("example.com", "s1", 0600);
    CHECK(dkim_read_key_file(a));
    CHECK(dkim_active_selector(dir, "example.com") == "s1");
    write("example.com", "s2", 0600);
    CHECK(dkim_active_selector(dir, "example.com") == std::nullopt);  // two keys, none named
    std::ofstream(dir / "example.com" / "active") << "s2\n";
    CHECK(dkim_active_selector(dir, "example.com") == "s2");
    auto open = write("example.org", "s1", 0640);
    auto r = dkim_read_key_file(open);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("mode 0640") != std::string::npos);
    std::filesystem::create_symlink(a, dir / "example.org" / "link.key");
    CHECK_FALSE(dkim_read_key_file(dir / "example.org" / "link.key"));
    std::filesystem::create_directories(dir / "Bad_Upper");

    auto all = dkim_list_keys(dir);
    REQUIRE(all.size() == 4);
    CHECK(all[0].domain == "example.com");
    CHECK(all[0].selector == "s1");
    CHECK_FALSE(all[0].active);
    CHECK(all[1].active);
    CHECK(all[2].domain == "example.org");
    CHECK(dkim_valid_name("sel-2026_a.b"));
    CHECK_FALSE(dkim_valid_name("../etc"));
    CHECK_FALSE(dkim_valid_name("Upper"));
    CHECK_FALSE(dkim_valid_name(""));
}
