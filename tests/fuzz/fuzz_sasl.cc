// Drives a random SASL mechanism through random client lines.
// Input: byte 0 picks the mechanism and options; the rest is split on '\n' into
// client lines. A line starting with '!' is sent raw (so "*", "=", bad base64 are
// reachable); any other line is base64-encoded first (so mechanisms see real data).
#include "libproto/core/base64.h"
#include "libproto/sasl/sasl.h"
#include "libproto/core/scram_keys.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace postern;

namespace {

const ScramKeys& user_keys() {
    static const ScramKeys k = scram_derive_keys("pencil", "W22ZaJ0SNY7soEsU", 16);
    return k;
}

SaslCallbacks callbacks() {
    SaslCallbacks cb;
    cb.resolve_login = [](std::string_view l) -> std::expected<std::string, SaslLookupError> {
        if (l == "temp") return std::unexpected(SaslLookupError::temporary);
        if (l == "user" || l == "user@example.org") return std::string("user@example.org");
        return std::unexpected(SaslLookupError::not_found);
    };
    cb.verify_password = [](std::string_view, std::string_view pw) {
        return pw == "pencil" ? PasswordCheck::ok : PasswordCheck::mismatch;
    };
    cb.scram_credentials = [](std::string_view) -> std::expected<ScramKeys, SaslLookupError> {
        return user_keys();
    };
    cb.cram_md5_secret = [](std::string_view) -> std::expected<std::string, SaslLookupError> {
        return std::string("pencil");
    };
    return cb;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static const char* mechs[] = {"PLAIN", "LOGIN", "SCRAM-SHA-256", "CRAM-MD5"};
    uint8_t sel = data[0];
    SaslOptions opt;
    opt.nonce_source = [] { return std::string("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"); };
    opt.fake_user_secret = "fuzz";
    opt.success_data_allowed = sel & 0x10;
    opt.max_line = 1024;
    auto server = make_sasl_server(mechs[sel & 3], callbacks(), opt);
    if (!server) __builtin_trap();
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    bool with_ir = sel & 0x20;
    bool first = true;
    for (int steps = 0; steps < 16; ++steps) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == rest.npos ? std::string_view{} : rest.substr(nl + 1);
        std::string wire =
            !line.empty() && line[0] == '!' ? std::string(line.substr(1)) : base64_encode(line);
        SaslStep r = first ? (with_ir ? server->start(wire) : server->start(std::nullopt))
                           : server->step(wire);
        first = false;
        if (auto* c = std::get_if<SaslChallenge>(&r)) {
            if (!base64_decode(c->base64)) __builtin_trap();  // we only emit valid base64
            if (server->done()) __builtin_trap();
        } else {
            if (!server->done()) __builtin_trap();
            if (auto* s = std::get_if<SaslSuccess>(&r); s && s->user != "user@example.org")
                __builtin_trap();
        }
        if (rest.empty() && nl == std::string_view::npos) break;
    }
    return 0;
}
