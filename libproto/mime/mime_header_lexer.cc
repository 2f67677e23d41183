#include "libproto/mime/mime_header_lexer.h"

namespace postern::mime_detail {

bool is_tspecial(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u == 127) return true;
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=': return true;
    default: return false;
    }
}

void HeaderLexer::skip_cfws() {
    while (!at_end()) {
        char c = s_[pos_];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++pos_;
        } else if (c == '(') {
            std::string ignored;
            comment(ignored);
        } else {
            return;
        }
    }
}

void HeaderLexer::comment(std::string& out) {
    // Iterative so that deeply nested comments cannot exhaust the stack.
    size_t depth = 0;
    while (!at_end()) {
        char c = s_[pos_++];
        if (c == '\\' && !at_end()) {
            if (depth > 0) out += s_[pos_];
            ++pos_;
        } else if (c == '(') {
            if (depth > 0) out += c;
            ++depth;
        } else if (c == ')') {
            if (--depth == 0) return;
            out += c;
        } else if (depth > 0) {
            out += c;
        }
    }
}

std::string_view HeaderLexer::token() {
    size_t start = pos_;
    while (!at_end() && !is_tspecial(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
}

void HeaderLexer::quoted(std::string& out) {
    ++pos_;  // the opening quote
    while (!at_end()) {
        char c = s_[pos_++];
        if (c == '"') return;
        if (c == '\\' && !at_end()) c = s_[pos_++];
        out += c;
    }
}

std::string HeaderLexer::value() {
    std::string out;
    skip_cfws();
    if (peek() == '"') {
        quoted(out);
    } else {
        // Tolerant: a bare value runs to ';' or white space (some mailers leave "/" or "="
        // unquoted in boundaries and file names).
        while (!at_end()) {
            char c = s_[pos_];
            if (c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == '"')
                break;
            out += c;
            ++pos_;
        }
    }
    return out;
}

}  // namespace postern::mime_detail
