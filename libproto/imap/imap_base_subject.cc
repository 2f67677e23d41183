#include "libproto/imap/imap_base_subject.h"

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_encoded_word.h"

namespace postern {
namespace {

bool wsp(char c) { return c == ' ' || c == '\t'; }

// Step 1: decoded, every white space run (tabs, line breaks) one space.
std::string normalize(std::string_view raw) {
    std::string decoded = mime_decode_encoded_words(raw);
    std::string out;
    out.reserve(decoded.size());
    bool space = false;
    for (char c : decoded) {
        if (wsp(c) || c == '\r' || c == '\n') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    if (space && !out.empty()) out.push_back(' ');
    return out;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP at s[i]: its end, or npos.
size_t blob_end(std::string_view s, size_t i) {
    if (i >= s.size() || s[i] != '[') return std::string_view::npos;
    size_t j = i + 1;
    while (j < s.size() && s[j] != '[' && s[j] != ']') ++j;
    if (j >= s.size() || s[j] != ']') return std::string_view::npos;
    ++j;
    while (j < s.size() && wsp(s[j])) ++j;
    return j;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at s[i]: its end, or npos.
size_t refwd_end(std::string_view s, size_t i) {
    size_t j = i;
    if (istarts_with(s.substr(j), "re")) {
        j += 2;
    } else if (istarts_with(s.substr(j), "fwd")) {
        j += 3;
    } else if (istarts_with(s.substr(j), "fw")) {
        j += 2;
    } else {
        return std::string_view::npos;
    }
    while (j < s.size() && wsp(s[j])) ++j;
    if (size_t b = blob_end(s, j); b != std::string_view::npos) j = b;
    if (j < s.size() && s[j] == ':') return j + 1;
    return std::string_view::npos;
}

// Step 3: one subj-leader (*subj-blob subj-refwd / WSP) at the start: its length, or 0.
size_t leader(std::string_view s) {
    if (!s.empty() && wsp(s[0])) return 1;
    size_t j = 0;
    for (;;) {
        if (size_t r = refwd_end(s, j); r != std::string_view::npos) return r;
        size_t b = blob_end(s, j);
        if (b == std::string_view::npos) return 0;
        j = b;
    }
}

}  // namespace

BaseSubject imap_base_subject(std::string_view raw) {
    BaseSubject out;
    std::string s = normalize(raw);
    for (;;) {
        // Step 2: trailing "(fwd)" and white space.
        for (;;) {
            if (!s.empty() && wsp(s.back())) {
                s.pop_back();
            } else if (s.size() >= 5 &&
                       iequals(std::string_view(s).substr(s.size() - 5), "(fwd)")) {
                s.resize(s.size() - 5);
                out.reply_or_forward = true;
            } else {
                break;
            }
        }
        // Steps 3-5: leaders, and a blob when something is left after it.
        for (bool changed = true; changed;) {
            changed = false;
            while (size_t n = leader(s)) {
                if (!wsp(s[0])) out.reply_or_forward = true;
                s.erase(0, n);
                changed = true;
            }
            size_t b = blob_end(s, 0);
            if (b != std::string_view::npos && b < s.size()) {
                s.erase(0, b);
                changed = true;
            }
        }
        // Step 6: "[fwd:" ... "]".
        if (s.size() >= 6 && istarts_with(s, "[fwd:") && s.back() == ']') {
            s = s.substr(5, s.size() - 6);
            out.reply_or_forward = true;
            continue;
        }
        break;
    }
    out.text = std::move(s);
    return out;
}

}  // namespace postern
