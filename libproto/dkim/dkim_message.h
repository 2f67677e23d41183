#pragma once
// A message fed to the signer in chunks of any size: the header is kept (bounded) and parsed
// once, the body goes through the relaxed canonicalizer into SHA-256 and is never held.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/dkim/dkim_canon.h"
#include "libproto/dkim/dkim_header_fields.h"

struct evp_md_ctx_st;

namespace postern {

// A header larger than this is not signed (a signer must not buffer without end).
inline constexpr size_t kDkimMaxHeaderBytes = 1024 * 1024;

class DkimMessage {
public:
    DkimMessage();
    ~DkimMessage();
    DkimMessage(const DkimMessage&) = delete;
    DkimMessage& operator=(const DkimMessage&) = delete;

    // False once the header has grown past kDkimMaxHeaderBytes (the rest is ignored).
    bool feed(std::string_view chunk);
    // After the last chunk. A message without an empty line is all header, with an empty
    // body. False if the header was too large.
    bool finish();

    // The whole header has been fed (the body has begun, or finish() was called): fields()
    // may be asked before the body is read, to decide whether to read it.
    bool header_complete() const { return in_body_; }
    // Once header_complete(): the fields, parsed once (views into the kept header).
    const std::vector<HeaderField>& fields();
    // After finish(): bh= (base64 SHA-256 of the relaxed body).
    const std::string& body_hash() const { return body_hash_; }
    uint64_t body_size() const { return body_.canonical_size(); }

private:
    void hash(std::string_view canonical);

    std::string header_;
    bool in_body_ = false;
    bool too_big_ = false;
    size_t scanned_ = 0;  // header_ bytes already searched for the empty line
    evp_md_ctx_st* sha_ = nullptr;
    RelaxedBody body_;
    std::vector<HeaderField> fields_;
    bool parsed_ = false;
    std::string body_hash_;
};

}  // namespace postern
