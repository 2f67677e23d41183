#include "libproto/dkim/dkim_message.h"

#include <openssl/evp.h>

#include "libproto/core/base64.h"

namespace postern {

DkimMessage::DkimMessage()
    : sha_(EVP_MD_CTX_new()), body_([this](std::string_view s) { hash(s); }) {
    if (sha_ && EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(sha_);
        sha_ = nullptr;
    }
}

DkimMessage::~DkimMessage() { EVP_MD_CTX_free(sha_); }

void DkimMessage::hash(std::string_view canonical) {
    if (sha_) EVP_DigestUpdate(sha_, canonical.data(), canonical.size());
}

bool DkimMessage::feed(std::string_view chunk) {
    if (too_big_) return false;
    if (in_body_) {
        body_.feed(chunk);
        return true;
    }
    header_.append(chunk);
    // Search again only from 3 bytes back: a CRLF CRLF may straddle two chunks.
    size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
    std::optional<size_t> end;
    if (header_.starts_with("\r\n"))
        end = 2;
    else if (size_t at = header_.find("\r\n\r\n", from); at != std::string::npos)
        end = at + 4;
    scanned_ = header_.size();
    if (!end) {
        if (header_.size() > kDkimMaxHeaderBytes) {
            too_big_ = true;
            header_.clear();
            return false;
        }
        return true;
    }
    in_body_ = true;
    body_.feed(std::string_view(header_).substr(*end));
    header_.resize(*end);
    too_big_ = header_.size() > kDkimMaxHeaderBytes;
    return !too_big_;
}

const std::vector<HeaderField>& DkimMessage::fields() {
    static const std::vector<HeaderField> none;
    if (!in_body_) return none;  // the header is still growing
    if (!parsed_) fields_ = parse_header_fields(header_);
    parsed_ = true;
    return fields_;
}

bool DkimMessage::finish() {
    if (too_big_) return false;
    in_body_ = true;  // a message without an empty line is all header
    body_.finish();
    fields();
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned len = 0;
    if (!sha_ || EVP_DigestFinal_ex(sha_, digest.data(), &len) != 1) return false;
    body_hash_ = base64_encode(std::string_view(reinterpret_cast<char*>(digest.data()), len));
    return true;
}

}  // namespace postern
