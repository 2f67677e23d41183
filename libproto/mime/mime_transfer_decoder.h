#pragma once
// Streaming Content-Transfer-Encoding decoders (RFC 2045 sections 6.7 and 6.8) for
// FETCH BINARY[] / BINARY.SIZE and SEARCH on decoded text. Input in chunks of any size;
// output appended to `out`. Both are lenient readers: they decode what can be decoded
// and report through error() that the input was not clean (BINARY may then answer
// [UNKNOWN-CTE] or send what was decoded, the caller chooses).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace postern {

class MimeTransferDecoder {
public:
    virtual ~MimeTransferDecoder() = default;
    virtual void feed(std::string_view in, std::string& out) = 0;
    virtual void finish(std::string& out) = 0;
    bool error() const { return error_; }

protected:
    bool error_ = false;
};

// Base64: characters outside the alphabet are skipped (line breaks are expected, anything
// else sets error()); decoding stops at the padding, later data sets error().
class MimeBase64Decoder final : public MimeTransferDecoder {
public:
    void feed(std::string_view in, std::string& out) override;
    void finish(std::string& out) override;

private:
    uint32_t bits_ = 0;
    int count_ = 0;  // sextets in bits_
    bool done_ = false;
};

// Quoted-printable: "=XX" (either case), soft line breaks "=" CRLF / "=" LF, trailing
// white space of each line dropped; a line break is written as the input had it.
class MimeQuotedPrintableDecoder final : public MimeTransferDecoder {
public:
    void feed(std::string_view in, std::string& out) override;
    void finish(std::string& out) override;

private:
    void line(std::string_view text, std::string_view eol, std::string& out);
    void segment(std::string_view text, std::string& out);
    std::string carry_;  // the unfinished current line (bounded, see feed)
};

// Identity for 7bit, 8bit, binary and unknown encodings.
class MimeIdentityDecoder final : public MimeTransferDecoder {
public:
    void feed(std::string_view in, std::string& out) override { out.append(in); }
    void finish(std::string&) override {}
};

enum class MimeEncoding { kIdentity, kBase64, kQuotedPrintable, kUnknown };
// "base64", "quoted-printable", 7bit/8bit/binary/none -> identity, other -> unknown.
MimeEncoding mime_encoding_of(std::string_view content_transfer_encoding);
// A decoder for the encoding (identity for kUnknown: the caller decides whether that is
// acceptable; BINARY answers [UNKNOWN-CTE]).
std::unique_ptr<MimeTransferDecoder> mime_make_decoder(MimeEncoding e);

}  // namespace postern
