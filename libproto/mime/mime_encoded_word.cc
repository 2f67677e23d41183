#include "libproto/mime/mime_encoded_word.h"

#include <optional>

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_charset.h"
#include "libproto/mime/mime_transfer_decoder.h"

namespace postern {

namespace {

struct Word {
    size_t begin, end;    // of the whole "=?...?=" in the value
    std::string charset;  // without an RFC 2231 "*language"
    std::string bytes;    // decoded
};

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string q_decode(std::string_view t) {
    std::string out;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '_') {
            out += ' ';
        } else if (t[i] == '=' && i + 2 < t.size() && hex(t[i + 1]) >= 0 && hex(t[i + 2]) >= 0) {
            out += static_cast<char>(hex(t[i + 1]) * 16 + hex(t[i + 2]));
            i += 2;
        } else {
            out += t[i];
        }
    }
    return out;
}

// The encoded word starting at s[at] ("=?"), or nullopt when it is not one.
std::optional<Word> word_at(std::string_view s, size_t at) {
    size_t q1 = s.find('?', at + 2);
    if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return {};
    std::string_view charset = s.substr(at + 2, q1 - at - 2);
    char enc = ascii_upper(s[q1 + 1]);
    size_t text_begin = q1 + 3;
    size_t close = s.find("?=", text_begin);
    if (charset.empty() || (enc != 'B' && enc != 'Q') || close == std::string_view::npos) return {};
    std::string_view text = s.substr(text_begin, close - text_begin);
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return {};
    }
    for (char c : charset) {
        if (c == ' ' || c == '\t' || c == '(' || c == ')' || c == '"') return {};
    }
    Word w;
    w.begin = at;
    w.end = close + 2;
    if (size_t star = charset.find('*'); star != std::string_view::npos) {
        charset = charset.substr(0, star);
    }
    w.charset = std::string(charset);
    if (enc == 'Q') {
        w.bytes = q_decode(text);
    } else {
        MimeBase64Decoder d;
        d.feed(text, w.bytes);
        d.finish(w.bytes);
    }
    return w;
}

bool only_space(std::string_view s) {
    for (char c : s) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
}

}  // namespace

std::string mime_decode_encoded_words(std::string_view s) {
    std::string out;
    size_t pos = 0;  // next byte of s not yet written
    // A run of adjacent words in one charset, waiting to be converted.
    std::string run_charset, run_bytes;
    size_t run_begin = 0;
    bool in_run = false;
    auto flush_run = [&](size_t run_end) {
        if (!in_run) return;
        if (auto utf8 = mime_charset_to_utf8(run_charset, run_bytes)) {
            out += *utf8;
        } else {
            out += mime_utf8_sanitize(s.substr(run_begin, run_end - run_begin));
        }
        in_run = false;
        run_bytes.clear();
    };
    size_t last_end = 0;
    size_t search = 0;
    while (true) {
        size_t at = s.find("=?", search);
        if (at == std::string_view::npos) break;
        std::optional<Word> w = word_at(s, at);
        if (!w) {
            search = at + 2;
            continue;
        }
        bool adjacent = in_run && only_space(s.substr(last_end, at - last_end));
        if (adjacent && iequals(w->charset, run_charset)) {
            run_bytes += w->bytes;
        } else {
            flush_run(last_end);
            if (!adjacent) out += mime_utf8_sanitize(s.substr(pos, at - pos));
            in_run = true;
            run_charset = w->charset;
            run_bytes = std::move(w->bytes);
            run_begin = at;
        }
        last_end = w->end;
        pos = w->end;
        search = w->end;
    }
    flush_run(last_end);
    out += mime_utf8_sanitize(s.substr(pos));
    return out;
}

}  // namespace postern
