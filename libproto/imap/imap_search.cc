#include "libproto/imap/imap_search.h"

#include <array>
#include <string_view>

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {
namespace {

using T = SearchKeyType;

// What follows a key's name.
enum class Arg : uint8_t {
    none,
    astring,
    keyword,
    header,
    date,
    number,
    nz_number,
    set,
    not_,
    or_,
    modseq
};

struct KeySpec {
    std::string_view name;
    T type;
    Arg arg;
};

constexpr std::array<KeySpec, 38> keys{{
    {"ALL", T::all, Arg::none},
    {"ANSWERED", T::answered, Arg::none},
    {"DELETED", T::deleted, Arg::none},
    {"DRAFT", T::draft, Arg::none},
    {"FLAGGED", T::flagged, Arg::none},
    {"NEW", T::new_, Arg::none},
    {"OLD", T::old, Arg::none},
    {"RECENT", T::recent, Arg::none},
    {"SEEN", T::seen, Arg::none},
    {"UNANSWERED", T::unanswered, Arg::none},
    {"UNDELETED", T::undeleted, Arg::none},
    {"UNDRAFT", T::undraft, Arg::none},
    {"UNFLAGGED", T::unflagged, Arg::none},
    {"UNSEEN", T::unseen, Arg::none},
    {"KEYWORD", T::keyword, Arg::keyword},
    {"UNKEYWORD", T::unkeyword, Arg::keyword},
    {"BCC", T::bcc, Arg::astring},
    {"BODY", T::body, Arg::astring},
    {"CC", T::cc, Arg::astring},
    {"FROM", T::from, Arg::astring},
    {"SUBJECT", T::subject, Arg::astring},
    {"TEXT", T::text, Arg::astring},
    {"TO", T::to, Arg::astring},
    {"HEADER", T::header, Arg::header},
    {"BEFORE", T::before, Arg::date},
    {"ON", T::on, Arg::date},
    {"SINCE", T::since, Arg::date},
    {"SENTBEFORE", T::sentbefore, Arg::date},
    {"SENTON", T::senton, Arg::date},
    {"SENTSINCE", T::sentsince, Arg::date},
    {"LARGER", T::larger, Arg::number},
    {"SMALLER", T::smaller, Arg::number},
    {"OLDER", T::older, Arg::nz_number},
    {"YOUNGER", T::younger, Arg::nz_number},
    {"UID", T::uid, Arg::set},
    {"NOT", T::not_, Arg::not_},
    {"OR", T::or_, Arg::or_},
    {"MODSEQ", T::modseq, Arg::modseq},
}};

class SearchParser {
public:
    SearchParser(ImapLexer& lx, const SearchLimits& limits) : lx_(lx), limits_(limits) {}

    // key *(SP key) until `close` (')' or the end).
    bool list(SearchKey& node, unsigned depth, bool parenthesised) {
        node.type = T::and_;
        for (;;) {
            node.children.emplace_back();
            if (!key(node.children.back(), depth)) return false;
            if (parenthesised ? lx_.eat(')') : lx_.at_end()) return true;
            if (!lx_.sp()) return false;
        }
    }

private:
    bool key(SearchKey& k, unsigned depth) {
        if (++count_ > limits_.max_keys) return lx_.fail_limit("too many search keys");
        if (depth > limits_.max_depth) return lx_.fail_limit("search keys nested too deeply");
        char c = lx_.peek();
        if (lx_.eat('(')) return list(k, depth + 1, true);
        if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
            k.type = T::sequence;
            return parse_sequence_set(lx_, k.set, limits_.max_ranges);
        }
        std::string_view name;
        if (!lx_.atom(name)) return lx_.fail("expected a search key");
        const KeySpec* spec = nullptr;
        for (const KeySpec& s : keys)
            if (iequals(s.name, name)) {
                spec = &s;
                break;
            }
        if (!spec) return lx_.fail("unknown search key");
        k.type = spec->type;
        if (spec->arg == Arg::none) return true;
        if (!lx_.sp()) return false;
        switch (spec->arg) {
        case Arg::none: return true;
        case Arg::astring: return lx_.astring(k.text);
        case Arg::keyword: {
            std::string_view kw;
            if (!lx_.atom(kw)) return false;
            k.text.assign(kw);
            return true;
        }
        case Arg::header: return lx_.astring(k.field) && lx_.sp() && lx_.astring(k.text);
        case Arg::date: return parse_imap_date(lx_, k.date);
        case Arg::number: return lx_.number(k.number);
        case Arg::nz_number: return lx_.nz_number64(k.number);
        case Arg::set: return parse_sequence_set(lx_, k.set, limits_.max_ranges);
        case Arg::not_: k.children.emplace_back(); return key(k.children.back(), depth + 1);
        case Arg::or_:
            k.children.resize(2);
            return key(k.children[0], depth + 1) && lx_.sp() && key(k.children[1], depth + 1);
        case Arg::modseq: return modseq(k);
        }
        return false;
    }

    // MODSEQ [entry-name SP entry-type-req SP] mod-sequence-valzer (RFC 7162 section 3.1.5)
    bool modseq(SearchKey& k) {
        if (lx_.peek() == '"') {
            if (!lx_.string(k.field) || !lx_.sp()) return false;
            if (!k.field.starts_with("/flags/")) return lx_.fail("bad MODSEQ entry name");
            std::string_view type;
            if (!lx_.atom(type)) return false;
            if (!iequals(type, "priv") && !iequals(type, "shared") && !iequals(type, "all"))
                return lx_.fail("bad MODSEQ entry type");
            k.text = ascii_lowered(type);
            if (!lx_.sp()) return false;
        }
        return lx_.number(k.number);
    }

    ImapLexer& lx_;
    const SearchLimits& limits_;
    unsigned count_ = 0;
};

}  // namespace

bool parse_search_criteria(ImapLexer& lx, SearchKey& out, const SearchLimits& limits) {
    out = SearchKey{};
    SearchParser p(lx, limits);
    return p.list(out, 1, false);
}

bool parse_sort_criteria(ImapLexer& lx, std::vector<SortCriterion>& out) {
    static constexpr std::array<std::pair<std::string_view, SortKey>, 9> sort_keys{{
        {"ARRIVAL", SortKey::arrival},
        {"CC", SortKey::cc},
        {"DATE", SortKey::date},
        {"FROM", SortKey::from},
        {"SIZE", SortKey::size},
        {"SUBJECT", SortKey::subject},
        {"TO", SortKey::to},
        {"DISPLAYFROM", SortKey::displayfrom},
        {"DISPLAYTO", SortKey::displayto},
    }};
    out.clear();
    if (!lx.eat('(')) return lx.fail("expected sort criteria");
    for (;;) {
        SortCriterion c;
        std::string_view name;
        if (!lx.atom(name)) return false;
        if (iequals(name, "REVERSE")) {
            c.reverse = true;
            if (!lx.sp() || !lx.atom(name)) return false;
        }
        bool found = false;
        for (const auto& [n, k] : sort_keys)
            if (iequals(n, name)) {
                c.key = k;
                found = true;
            }
        if (!found) return lx.fail("unknown sort key");
        if (out.size() >= 16) return lx.fail("too many sort keys");
        out.push_back(c);
        if (lx.eat(')')) return true;
        if (!lx.sp()) return false;
    }
}

}  // namespace postern
