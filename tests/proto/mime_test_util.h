#pragma once
// Helpers for the MIME / IMAP formatter tests: the corpus in tests/data/mime, parsing in
// chunks, and a normal form for IMAP strings (literal vs quoted is the writer's choice).

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "libproto/imap/imap_bodystructure.h"
#include "libproto/imap/imap_envelope.h"
#include "libproto/imap/imap_string.h"
#include "libproto/mime/mime_parser.h"

namespace postern::mime_test {

inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline std::string corpus_path(std::string_view name) {
    return std::string(MIME_TEST_DATA) + "/" + std::string(name);
}

// chunk 0: whole; 1: one byte at a time; otherwise random sizes 1..chunk from `seed`.
inline MimeMessage parse_chunked(std::string_view msg, size_t chunk, uint32_t seed = 1) {
    MimeParser p;
    if (chunk == 0) {
        p.feed(msg);
        return p.finish();
    }
    std::mt19937 rng(seed);
    size_t i = 0;
    while (i < msg.size()) {
        size_t n = chunk == 1 ? 1 : 1 + rng() % chunk;
        n = std::min(n, msg.size() - i);
        p.feed(msg.substr(i, n));
        i += n;
    }
    return p.finish();
}

// Rewrites every "{n}\r\n" literal whose bytes can be quoted as a quoted string.
inline std::string normalize_literals(std::string_view s) {
    std::string out;
    size_t i = 0;
    bool in_quote = false;
    while (i < s.size()) {
        char c = s[i];
        if (in_quote) {
            out += c;
            if (c == '\\' && i + 1 < s.size()) {
                out += s[++i];
            } else if (c == '"') {
                in_quote = false;
            }
            ++i;
            continue;
        }
        if (c == '"') {
            in_quote = true;
            out += c;
            ++i;
            continue;
        }
        size_t close = s.find("}\r\n", i);
        if (c == '{' && close != std::string_view::npos) {
            std::string digits(s.substr(i + 1, close - i - 1));
            size_t n = std::stoul(digits);
            std::string_view bytes = s.substr(close + 3, n);
            if (imap_quotable(bytes)) {
                imap_write_quoted(out, bytes);
            } else {
                out.append(s.substr(i, close + 3 - i));
                out.append(bytes);
            }
            i = close + 3 + n;
            continue;
        }
        out += c;
        ++i;
    }
    return out;
}

// "ENVELOPE (...) BODYSTRUCTURE (...) BODY (...)" as the corpus .expected files hold it.
// Sizes as Dovecot gives them: CRLF for every bare LF.
inline std::string fetch_items(const MimeMessage& m, bool crlf_sizes = true) {
    std::string out = "ENVELOPE ";
    if (m.root().envelope) {
        imap_write_envelope(out, *m.root().envelope);
    } else {
        imap_write_empty_envelope(out);
    }
    out += " BODYSTRUCTURE ";
    imap_write_bodystructure(out, m, 0, true, false, crlf_sizes);
    out += " BODY ";
    imap_write_bodystructure(out, m, 0, false, false, crlf_sizes);
    return out;
}

}  // namespace postern::mime_test
