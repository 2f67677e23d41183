// dkim_sign_driver KEYDIR [DOMAIN] < message > signed: what spoold's DKIM keyring puts before
// a message, then the message. Without DOMAIN the From: domain decides (spoold's rule).
// Exit 0 when signed, 3 when the keyring has no key for it, 2 on usage. For
// tests/e2e/test_dkim.py, which verifies the output with python3-dkim.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "spoold/dkim_keyring.h"

using namespace postern;

namespace {

class StringReader final : public MessageReader {
public:
    explicit StringReader(std::string s) : s_(std::move(s)) {}
    uint64_t size() const override { return s_.size(); }
    // Short reads on purpose (at most 1000 octets) so the keyring's chunking is exercised.
    StoreResult<size_t> read_at(uint64_t offset, std::span<char> buf) override {
        if (offset >= s_.size()) return 0;
        size_t n = std::min({buf.size(), s_.size() - size_t(offset), size_t(1000)});
        std::copy_n(s_.data() + offset, n, buf.data());
        return n;
    }

private:
    std::string s_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: dkim_sign_driver KEYDIR [DOMAIN] < message\n");
        return 2;
    }
    std::vector<std::string> warnings;
    const char* t = std::getenv("DKIM_TIME");
    DkimKeyring::Clock clock;
    if (t) clock = [v = std::atoll(t)] { return int64_t(v); };
    auto ring = DkimKeyring::load(argv[1], warnings, clock);
    for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::string msg((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    StringReader reader(msg);
    auto field = argc == 3 ? ring.signature_header(argv[2], reader) : ring.sign(reader);
    if (!field) return 3;
    std::cout << *field << msg;
    return 0;
}
