#include "libproto/mime/mime_address.h"

#include "libproto/mime/mime_header_lexer.h"

namespace postern {

namespace {

enum class Kind { kAtom, kQuoted, kSpecial, kLiteral };

struct Token {
    Kind kind;
    std::string text;    // atom, unquoted string, literal with brackets, or the special
    bool space_before;   // white space or a comment came before it
    int comment_before;  // index into comments of the last comment before it, -1: none
};

bool is_special(char c) {
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case ':':
    case ';':
    case '@':
    case '\\':
    case ',':
    case '.':
    case '"': return true;
    default: return false;
    }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct Tokens {
    std::vector<Token> toks;
    std::vector<std::string> comments;
};

Tokens tokenize(std::string_view s) {
    Tokens out;
    bool space = false;
    int comment = -1;
    size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (is_space(c)) {
            space = true;
            ++i;
            continue;
        }
        if (c == '(') {
            mime_detail::HeaderLexer lx(s.substr(i));
            std::string text;
            lx.comment(text);
            i = s.size() - lx.rest().size();
            out.comments.push_back(std::move(text));
            comment = static_cast<int>(out.comments.size()) - 1;
            space = true;
            continue;
        }
        Token t{Kind::kAtom, {}, space, comment};
        if (c == '"') {
            mime_detail::HeaderLexer lx(s.substr(i));
            lx.quoted(t.text);
            i = s.size() - lx.rest().size();
            t.kind = Kind::kQuoted;
        } else if (c == '[') {
            size_t end = s.find(']', i);
            end = end == std::string_view::npos ? s.size() : end + 1;
            t.text = std::string(s.substr(i, end - i));
            t.kind = Kind::kLiteral;
            i = end;
        } else if (is_special(c)) {
            t.text = std::string(1, c);
            t.kind = Kind::kSpecial;
            ++i;
        } else {
            size_t start = i;
            while (i < s.size() && !is_special(s[i]) && !is_space(s[i])) ++i;
            t.text = std::string(s.substr(start, i - start));
        }
        out.toks.push_back(std::move(t));
        space = false;
    }
    return out;
}

class AddressParser {
public:
    explicit AddressParser(Tokens t) : t_(std::move(t)) {}

    std::vector<MimeAddress> run() {
        parse_list(false);
        return std::move(out_);
    }

private:
    bool at_end() const { return pos_ >= t_.toks.size(); }
    bool is(char c) const {
        return !at_end() && t_.toks[pos_].kind == Kind::kSpecial && t_.toks[pos_].text[0] == c;
    }

    void parse_list(bool in_group) {
        while (!at_end()) {
            if (is(',')) {
                ++pos_;
                continue;
            }
            if (in_group && is(';')) return;
            size_t before = pos_;
            parse_one(in_group);
            if (pos_ == before) ++pos_;  // always progress
        }
    }

    // Words up to one of the given specials (not consumed), joined as a display name
    // (single spaces where the source had white space) or, with dots, as a local part.
    std::string phrase(std::string_view stops, bool local_part) {
        std::string s;
        bool first = true;
        while (!at_end()) {
            const Token& tk = t_.toks[pos_];
            if (tk.kind == Kind::kSpecial && stops.find(tk.text[0]) != std::string_view::npos)
                break;
            if (tk.kind == Kind::kSpecial && tk.text[0] != '.') {
                ++pos_;  // stray special inside a phrase: dropped
                continue;
            }
            if (!first && tk.space_before && !local_part) s += ' ';
            s += tk.text;
            first = false;
            ++pos_;
        }
        return s;
    }

    std::string domain() {
        std::string d;
        while (!at_end()) {
            const Token& tk = t_.toks[pos_];
            if (tk.kind == Kind::kSpecial && tk.text[0] != '.') break;
            d += tk.text;
            ++pos_;
        }
        return d;
    }

    // A comment before the next token or the end, for "a@b (Name)".
    std::optional<std::string> trailing_comment(size_t first_tok) {
        int c = at_end() ? static_cast<int>(t_.comments.size()) - 1 : t_.toks[pos_].comment_before;
        int before = first_tok < t_.toks.size() ? t_.toks[first_tok].comment_before : -1;
        if (c >= 0 && c > before) return t_.comments[static_cast<size_t>(c)];
        return std::nullopt;
    }

    void push(std::optional<std::string> name, std::optional<std::string> adl, std::string local,
              std::optional<std::string> host) {
        MimeAddress a;
        if (name && !name->empty()) a.name = std::move(name);
        if (adl && !adl->empty()) a.adl = std::move(adl);
        a.mailbox = local.empty() ? std::string(kMimeMissingMailbox) : std::move(local);
        a.host = host && !host->empty() ? std::move(*host) : std::string(kMimeMissingDomain);
        out_.push_back(std::move(a));
    }

    void parse_one(bool in_group) {
        size_t first = pos_;
        std::string words = phrase(in_group ? "<@,;" : "<:@,;", false);
        if (is(':') && !in_group) {
            ++pos_;
            out_.push_back(MimeAddress{std::nullopt, std::nullopt, words, std::nullopt});
            parse_list(true);
            if (is(';')) ++pos_;
            out_.push_back(MimeAddress{});
            return;
        }
        if (is('<')) {
            ++pos_;
            angle_addr(words.empty() ? std::nullopt : std::optional(words));
            return;
        }
        if (is('@')) {
            // An addr-spec: what came before is the local part, without added spaces.
            pos_ = first;
            std::string local = phrase("<@,;:", true);
            ++pos_;  // '@'
            std::string host = domain();
            std::optional<std::string> name = trailing_comment(first);
            skip_to_comma(in_group);
            push(std::move(name), std::nullopt, std::move(local), std::move(host));
            return;
        }
        // Only words: a local part without a domain.
        if (words.empty()) {
            if (!at_end() && !is(',') && !is(';')) ++pos_;
            return;
        }
        pos_ = first;
        std::string local = phrase("<:@,;", true);
        push(trailing_comment(first), std::nullopt, std::move(local), std::nullopt);
    }

    void angle_addr(std::optional<std::string> name) {
        size_t first = pos_;
        std::string adl;
        // obs-route: "@a,@b:"
        while (is('@') || (is(',') && !adl.empty())) {
            bool at = is('@');
            ++pos_;
            if (at) {
                if (!adl.empty()) adl += ',';
                adl += '@' + domain();
            }
        }
        if (!adl.empty()) {
            if (is(':')) {
                ++pos_;
            }
        }
        std::string local = phrase("<>@,;:", true);
        std::optional<std::string> host;
        if (is('@')) {
            ++pos_;
            host = domain();
        }
        while (!at_end() && !is('>')) ++pos_;
        if (is('>')) ++pos_;
        if (!name) name = trailing_comment(first);
        push(std::move(name), adl, std::move(local), std::move(host));
    }

    void skip_to_comma(bool in_group) {
        while (!at_end() && !is(',') && !(in_group && is(';'))) ++pos_;
    }

    Tokens t_;
    size_t pos_ = 0;
    std::vector<MimeAddress> out_;
};

}  // namespace

std::vector<MimeAddress> mime_parse_address_list(std::string_view value) {
    return AddressParser(tokenize(value)).run();
}

}  // namespace postern
