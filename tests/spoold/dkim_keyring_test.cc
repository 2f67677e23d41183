// spoold's DKIM keyring: which keys it loads from the key directory, which domain signs
// (the From: domain, when it has a key), and that the body is read only when signing.

#include "spoold/dkim_keyring.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "libproto/dkim/dkim_key_dir.h"
#include "libproto/dkim/dkim_message.h"

using namespace postern;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/postern-dkimring-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

// A message reader that counts how far it was read, in reads of at most `step` octets.
class CountingReader final : public MessageReader {
public:
    CountingReader(std::string s, size_t step) : s_(std::move(s)), step_(step) {}
    uint64_t size() const override { return s_.size(); }
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (fail_) return std::unexpected(StoreError::temporary);
        if (offset >= s_.size()) return 0;
        size_t n = std::min({buf.size(), s_.size() - size_t(offset), step_});
        std::copy_n(s_.data() + offset, n, buf.data());
        furthest_ = std::max<uint64_t>(furthest_, offset + n);
        return n;
    }
    uint64_t furthest_ = 0;
    bool fail_ = false;

private:
    std::string s_;
    size_t step_;
};

void write_key(const fs::path& dir, const std::string& domain, const std::string& sel,
               DkimKeyType type, mode_t mode = 0600) {
    auto key = DkimKey::generate(type, 1024);
    REQUIRE(key);
    fs::create_directories(dir / domain);
    auto path = dir / domain / (sel + ".key");
    std::ofstream(path) << *key->private_pem();
    ::chmod(path.c_str(), mode);
}

std::string message(const std::string& from, size_t body_lines) {
    std::string m = "From: " + from + "\r\nTo: r@remote.example\r\nSubject: s\r\n\r\n";
    for (size_t i = 0; i < body_lines; ++i) m += "line " + std::to_string(i) + "\r\n";
    return m;
}

}  // namespace

TEST_CASE("dkim keyring: loads the active key of each domain, warns about the rest") {
    TempDir tmp;
    fs::path dir = dkim_key_dir(tmp.path);
    std::vector<std::string> warnings;
    CHECK(DkimKeyring::load(dir, warnings).size() == 0);  // no directory: no keys
    CHECK(warnings.empty());

    write_key(dir, "example.com", "s1", DkimKeyType::rsa);
    write_key(dir, "example.org", "e1", DkimKeyType::ed25519);
    write_key(dir, "two.example", "a", DkimKeyType::ed25519);
    write_key(dir, "two.example", "b", DkimKeyType::ed25519);
    write_key(dir, "open.example", "s1", DkimKeyType::ed25519, 0644);
    auto ring = DkimKeyring::load(dir, warnings);
    CHECK(ring.domains() == std::vector<std::string>{"example.com", "example.org"});
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0].find("open.example/s1.key: mode 0644") != std::string::npos);
    CHECK(warnings[1].find("two.example has 2 keys") != std::string::npos);

    std::ofstream(dir / "two.example" / "active") << "b\n";
    warnings.clear();
    ring = DkimKeyring::load(dir, warnings);
    CHECK(ring.has_key("two.example"));
    CHECK(warnings.size() == 1);
}

TEST_CASE("dkim keyring: the From: domain signs, no key means no signature and no body read") {
    TempDir tmp;
    fs::path dir = dkim_key_dir(tmp.path);
    write_key(dir, "example.com", "s1", DkimKeyType::ed25519);
    std::vector<std::string> warnings;
    auto ring = DkimKeyring::load(dir, warnings, [] { return int64_t(1700000000); });
    REQUIRE(ring.size() == 1);

    CountingReader mine(message("Alice <alice@Example.COM>", 5000), 4096);
    auto field = ring.sign(mine);
    REQUIRE(field);
    CHECK(field->starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"));
    CHECK(field->find("d=example.com;") != std::string::npos);
    CHECK(field->find("s=s1;") != std::string::npos);
    CHECK(field->find("t=1700000000;") != std::string::npos);
    CHECK(mine.furthest_ == mine.size());

    CountingReader theirs(message("bob@elsewhere.example", 5000), 4096);
    CHECK_FALSE(ring.sign(theirs));
    CHECK(theirs.furthest_ <= 4096);  // stopped after the header

    CountingReader explicit_domain(message("bob@elsewhere.example", 3), 7);
    auto forced = ring.signature_header("EXAMPLE.com", explicit_domain);
    REQUIRE(forced);
    CHECK(forced->find("d=example.com;") != std::string::npos);
    CountingReader unknown(message("a@example.com", 3), 7);
    CHECK_FALSE(ring.signature_header("other.example", unknown));
    CHECK(unknown.furthest_ == 0);

    CountingReader broken(message("alice@example.com", 3), 7);
    broken.fail_ = true;
    CHECK_FALSE(ring.sign(broken));

    CountingReader no_body("From: alice@example.com\r\nSubject: x\r\n", 5);
    CHECK(ring.sign(no_body));

    std::string huge =
        "From: alice@example.com\r\nX-Big: " + std::string(kDkimMaxHeaderBytes + 10, 'a') +
        "\r\n\r\nbody\r\n";
    CountingReader big(huge, 65536);
    CHECK_FALSE(ring.sign(big));
}

TEST_CASE("dkim signing: the prefix hook, and a reload that replaces the keyring") {
    TempDir tmp;
    DkimSigning signing;
    CountingReader before(message("a@example.com", 2), 100);
    CHECK(signing.prefix(before).empty());  // nothing loaded yet
    signing.load(tmp.path);                 // no dkim/ directory: no keys
    CountingReader none(message("a@example.com", 2), 100);
    CHECK(signing.prefix(none).empty());

    write_key(dkim_key_dir(tmp.path), "example.com", "s1", DkimKeyType::ed25519);
    signing.load(tmp.path);
    CountingReader mine(message("a@example.com", 2), 100);
    std::string field = signing.prefix(mine);
    CHECK(field.starts_with("DKIM-Signature: "));
    CHECK(field.ends_with("\r\n"));
    CountingReader theirs(message("a@other.example", 2), 100);
    CHECK(signing.prefix(theirs).empty());
}
