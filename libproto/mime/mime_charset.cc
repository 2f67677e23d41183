#include "libproto/mime/mime_charset.h"

#include <cerrno>
#include <iconv.h>
#include <vector>

#include "libproto/core/ascii.h"

namespace postern {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_utf8_name(std::string_view cs) {
    return iequals(cs, "utf-8") || iequals(cs, "utf8") || iequals(cs, "us-ascii") ||
           iequals(cs, "ascii");
}

// A charset name as IANA registers them; anything else (iconv's "//TRANSLIT" suffixes,
// paths, control bytes) is refused before it reaches iconv_open.
bool plausible_name(std::string_view cs) {
    if (cs.empty() || cs.size() > 64) return false;
    for (char c : cs) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
        if (!ok) return false;
    }
    return true;
}

// Appends the valid part of s, replacing bad sequences; keeps an unfinished tail in carry.
void sanitize_into(std::string_view s, std::string& out, std::string* carry) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += s[i++];
            continue;
        }
        int n = mime_detail::utf8_sequence_length(s.substr(i));
        if (n > 0) {
            out.append(s.substr(i, static_cast<size_t>(n)));
            i += static_cast<size_t>(n);
        } else if (n < 0 && carry) {
            carry->assign(s.substr(i));
            return;
        } else {
            out += kReplacement;
            ++i;
        }
    }
}

}  // namespace

namespace mime_detail {

int utf8_sequence_length(std::string_view s) {
    auto b0 = static_cast<unsigned char>(s[0]);
    int n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    for (int k = 1; k < n; ++k) {
        if (static_cast<size_t>(k) >= s.size()) return -1;
        auto b = static_cast<unsigned char>(s[static_cast<size_t>(k)]);
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) return 0;
    }
    return n;
}

}  // namespace mime_detail

struct MimeCharsetDecoder::Iconv {
    std::string name;  // lowercased charset
    iconv_t cd;
    Iconv(std::string n, iconv_t c) : name(std::move(n)), cd(c) {}
    ~Iconv() { iconv_close(cd); }
    Iconv(const Iconv&) = delete;
    Iconv& operator=(const Iconv&) = delete;
};

namespace {

// iconv_open is costly next to decoding one header word, and SEARCH opens the same few
// charsets for every message: each thread keeps the last few descriptors.
constexpr size_t kIconvPoolSize = 8;
thread_local std::vector<std::unique_ptr<MimeCharsetDecoder::Iconv>> iconv_pool;

}  // namespace

std::unique_ptr<MimeCharsetDecoder::Iconv> MimeCharsetDecoder::take_iconv(std::string_view cs) {
    std::string name = ascii_lowered(cs);
    for (size_t i = 0; i < iconv_pool.size(); ++i) {
        if (iconv_pool[i]->name == name) {
            std::unique_ptr<Iconv> c = std::move(iconv_pool[i]);
            iconv_pool.erase(iconv_pool.begin() + static_cast<std::ptrdiff_t>(i));
            iconv(c->cd, nullptr, nullptr, nullptr, nullptr);  // back to the initial state
            return c;
        }
    }
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return nullptr;
    return std::make_unique<Iconv>(std::move(name), cd);
}

void MimeCharsetDecoder::give_back() {
    if (!iconv_) return;
    if (iconv_pool.size() >= kIconvPoolSize) iconv_pool.erase(iconv_pool.begin());
    iconv_pool.push_back(std::move(iconv_));
}

MimeCharsetDecoder::MimeCharsetDecoder() = default;
MimeCharsetDecoder::~MimeCharsetDecoder() { give_back(); }

bool MimeCharsetDecoder::open(std::string_view charset) {
    give_back();
    carry_.clear();
    if (is_utf8_name(charset)) return true;
    if (!plausible_name(charset)) return false;
    iconv_ = take_iconv(charset);
    return iconv_ != nullptr;
}

void MimeCharsetDecoder::feed(std::string_view in, std::string& out) {
    std::string joined;
    if (!carry_.empty()) {
        joined = std::move(carry_);
        carry_.clear();
        joined.append(in);
        in = joined;
    }
    if (!iconv_) {
        sanitize_into(in, out, &carry_);
        return;
    }
    char buf[4096];
    // iconv's interface takes char** for input it does not modify.
    char* src = const_cast<char*>(in.data());
    size_t left = in.size();
    while (left > 0) {
        char* dst = buf;
        size_t room = sizeof buf;
        size_t r = iconv(iconv_->cd, &src, &left, &dst, &room);
        out.append(buf, static_cast<size_t>(dst - buf));
        if (r != static_cast<size_t>(-1)) continue;
        if (errno == E2BIG) continue;
        if (errno == EINVAL) {  // incomplete at the end: wait for more
            carry_.assign(src, left);
            if (carry_.size() > 16) {  // no charset has sequences this long
                out += kReplacement;
                carry_.clear();
            }
            return;
        }
        // EILSEQ (or anything else): one byte replaced, the state reset.
        out += kReplacement;
        ++src;
        --left;
        iconv(iconv_->cd, nullptr, nullptr, nullptr, nullptr);
    }
}

void MimeCharsetDecoder::finish(std::string& out) {
    if (!carry_.empty()) {
        out += kReplacement;
        carry_.clear();
    }
    if (iconv_) {
        char buf[64];
        char* dst = buf;
        size_t room = sizeof buf;
        iconv(iconv_->cd, nullptr, nullptr, &dst, &room);  // shift back to the initial state
        out.append(buf, static_cast<size_t>(dst - buf));
    }
}

std::optional<std::string> mime_charset_to_utf8(std::string_view charset, std::string_view text) {
    MimeCharsetDecoder d;
    if (!d.open(charset)) return std::nullopt;
    std::string out;
    d.feed(text, out);
    d.finish(out);
    return out;
}

std::string mime_utf8_sanitize(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    sanitize_into(text, out, nullptr);
    return out;
}

}  // namespace postern
