#include "libproto/mime/mime_transfer_decoder.h"

#include "libproto/core/ascii.h"

namespace postern {

namespace {

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// An unfinished line is decoded once it is this long, up to the last byte that cannot
// still be trailing white space or part of an "=XX".
constexpr size_t kQpCarryLimit = 4096;

}  // namespace

void MimeBase64Decoder::feed(std::string_view in, std::string& out) {
    for (char c : in) {
        if (done_) {
            if (base64_value(c) >= 0) error_ = true;
            continue;
        }
        int v = base64_value(c);
        if (v < 0) {
            if (c == '=') {
                done_ = true;
                if (count_ < 2) error_ = true;
            } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
                error_ = true;
            }
            continue;
        }
        bits_ = (bits_ << 6) | static_cast<uint32_t>(v);
        if (++count_ == 4) {
            out += static_cast<char>((bits_ >> 16) & 0xFF);
            out += static_cast<char>((bits_ >> 8) & 0xFF);
            out += static_cast<char>(bits_ & 0xFF);
            bits_ = 0;
            count_ = 0;
        }
    }
}

void MimeBase64Decoder::finish(std::string& out) {
    if (count_ == 1) error_ = true;
    if (count_ >= 2) out += static_cast<char>((bits_ >> (6 * count_ - 8)) & 0xFF);
    if (count_ == 3) out += static_cast<char>((bits_ >> 2) & 0xFF);
    bits_ = 0;
    count_ = 0;
}

void MimeQuotedPrintableDecoder::segment(std::string_view s, std::string& out) {
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '=') {
            out += s[i];
            continue;
        }
        int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
        int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += '=';  // RFC 2045 6.7 note (1): kept as it is
            error_ = true;
        }
    }
}

void MimeQuotedPrintableDecoder::line(std::string_view text, std::string_view eol,
                                      std::string& out) {
    while (!text.empty() && (is_wsp(text.back()) || text.back() == '\r')) text.remove_suffix(1);
    if (!text.empty() && text.back() == '=') {
        segment(text.substr(0, text.size() - 1), out);  // soft line break
        return;
    }
    segment(text, out);
    out.append(eol);
}

void MimeQuotedPrintableDecoder::feed(std::string_view in, std::string& out) {
    while (!in.empty()) {
        size_t lf = in.find('\n');
        if (lf == std::string_view::npos) {
            carry_.append(in);
            break;
        }
        std::string_view piece = in.substr(0, lf);
        in.remove_prefix(lf + 1);
        bool cr =
            !piece.empty() ? piece.back() == '\r' : (!carry_.empty() && carry_.back() == '\r');
        std::string_view eol = cr ? "\r\n" : "\n";
        if (carry_.empty()) {
            line(piece, eol, out);
        } else {
            carry_.append(piece);
            line(carry_, eol, out);
            carry_.clear();
        }
    }
    if (carry_.size() > kQpCarryLimit) {
        size_t cut = carry_.size();
        while (cut > 0 && (is_wsp(carry_[cut - 1]) || carry_[cut - 1] == '\r')) --cut;
        // Never cut inside "=XX".
        for (size_t k = 1; k <= 2 && k <= cut; ++k) {
            if (carry_[cut - k] == '=') {
                cut -= k;
                break;
            }
        }
        // A white-space run this long is not stripped even if a line break follows.
        if (cut == 0) cut = carry_.size() - 2;
        segment(std::string_view(carry_).substr(0, cut), out);
        carry_.erase(0, cut);
    }
}

void MimeQuotedPrintableDecoder::finish(std::string& out) {
    if (!carry_.empty()) {
        line(carry_, "", out);
        carry_.clear();
    }
}

MimeEncoding mime_encoding_of(std::string_view cte) {
    if (cte.empty() || iequals(cte, "7bit") || iequals(cte, "8bit") || iequals(cte, "binary"))
        return MimeEncoding::kIdentity;
    if (iequals(cte, "base64")) return MimeEncoding::kBase64;
    if (iequals(cte, "quoted-printable")) return MimeEncoding::kQuotedPrintable;
    return MimeEncoding::kUnknown;
}

std::unique_ptr<MimeTransferDecoder> mime_make_decoder(MimeEncoding e) {
    switch (e) {
    case MimeEncoding::kBase64: return std::make_unique<MimeBase64Decoder>();
    case MimeEncoding::kQuotedPrintable: return std::make_unique<MimeQuotedPrintableDecoder>();
    case MimeEncoding::kIdentity:
    case MimeEncoding::kUnknown: break;
    }
    return std::make_unique<MimeIdentityDecoder>();
}

}  // namespace postern
