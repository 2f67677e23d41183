#include "libproto/imap/imap_args.h"

#include <array>
#include <string_view>

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {

bool parse_mailbox(ImapLexer& lx, std::string& out) {
    if (!lx.astring(out)) return lx.fail("expected a mailbox name");
    if (iequals(out, "INBOX")) out = "INBOX";
    return true;
}

bool parse_flag(ImapLexer& lx, std::string& out) {
    static constexpr std::array<std::string_view, 5> system{"\\Answered", "\\Flagged", "\\Deleted",
                                                            "\\Seen", "\\Draft"};
    bool backslash = lx.eat('\\');
    std::string_view a;
    if (!lx.atom(a)) return lx.fail("expected a flag");
    if (!backslash) {
        out.assign(a);
        return true;
    }
    if (iequals(a, "Recent")) return lx.fail("\\Recent cannot be set");
    for (std::string_view f : system) {
        if (iequals(f.substr(1), a)) {
            out.assign(f);
            return true;
        }
    }
    out = "\\";
    out.append(a);
    return true;
}

bool parse_flag_list(ImapLexer& lx, std::vector<std::string>& out, size_t max_items) {
    out.clear();
    if (!lx.eat('(')) return lx.fail("expected a flag list");
    if (lx.eat(')')) return true;
    for (;;) {
        std::string f;
        if (!parse_flag(lx, f)) return false;
        if (out.size() >= max_items) return lx.fail_limit("too many flags");
        out.push_back(std::move(f));
        if (lx.eat(')')) return true;
        if (!lx.sp()) return false;
    }
}

bool parse_status_items(ImapLexer& lx, uint16_t& out) {
    static constexpr std::array<std::pair<std::string_view, uint16_t>, 9> items{{
        {"MESSAGES", status_messages},
        {"RECENT", status_recent},
        {"UIDNEXT", status_uidnext},
        {"UIDVALIDITY", status_uidvalidity},
        {"UNSEEN", status_unseen},
        {"DELETED", status_deleted},
        {"SIZE", status_size},
        {"HIGHESTMODSEQ", status_highestmodseq},
        {"APPENDLIMIT", status_appendlimit},
    }};
    out = 0;
    if (!lx.eat('(')) return lx.fail("expected STATUS items");
    for (;;) {
        std::string_view a;
        if (!lx.atom(a)) return false;
        uint16_t bit = 0;
        for (const auto& [name, b] : items)
            if (iequals(name, a)) bit = b;
        if (!bit) return lx.fail("unknown STATUS item");
        out |= bit;
        if (lx.eat(')')) return true;
        if (!lx.sp()) return false;
    }
}

bool parse_append_head(ImapLexer& lx, AppendHead& out, size_t max_items) {
    out.flags.clear();
    out.internal_date.reset();
    out.utf8 = false;
    if (!lx.sp()) return false;
    if (lx.peek() == '(') {
        if (!parse_flag_list(lx, out.flags, max_items) || !lx.sp()) return false;
    }
    if (lx.peek() == '"') {
        ImapDateTime dt;
        if (!parse_imap_date_time(lx, dt) || !lx.sp()) return false;
        out.internal_date = dt;
    }
    if (lx.eat_keyword("UTF8")) {
        if (!lx.sp() || !lx.eat('(')) return lx.fail("expected UTF8 (literal8)");
        out.utf8 = true;
        return lx.peek() == '~' || lx.fail("UTF8 message data needs a literal8");
    }
    char c = lx.peek();
    return c == '{' || c == '~' || lx.fail("expected the message literal");
}

namespace {

// QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
bool qresync(ImapLexer& lx, QresyncParams& q, const ImapParserLimits& limits) {
    if (!lx.sp() || !lx.eat('(') || !lx.nz_number(q.uidvalidity) || !lx.sp() ||
        !lx.nz_number64(q.modseq))
        return lx.fail("bad QRESYNC parameters");
    if (lx.eat(')')) return true;
    if (!lx.sp()) return false;
    if (lx.peek() != '(') {
        SequenceSet s;
        if (!parse_sequence_set(lx, s, limits.sequence_ranges_max, false)) return false;
        q.known_uids = std::move(s);
        if (lx.eat(')')) return true;
        if (!lx.sp()) return false;
    }
    SequenceSet seqs, uids;
    if (!lx.eat('(') || !parse_sequence_set(lx, seqs, limits.sequence_ranges_max, false) ||
        !lx.sp() || !parse_sequence_set(lx, uids, limits.sequence_ranges_max, false) ||
        !lx.eat(')') || !lx.eat(')'))
        return lx.fail("bad QRESYNC sequence match data");
    q.known_seqs = std::move(seqs);
    q.known_seq_uids = std::move(uids);
    return true;
}

}  // namespace

bool parse_select_args(ImapLexer& lx, ImapSelect& out, const ImapParserLimits& limits) {
    if (!parse_mailbox(lx, out.mailbox)) return false;
    if (lx.at_end()) return true;
    if (!lx.sp() || !lx.eat('(')) return lx.fail("expected SELECT parameters");
    for (;;) {
        if (lx.eat_keyword("CONDSTORE")) {
            out.condstore = true;
        } else if (lx.eat_keyword("QRESYNC")) {
            QresyncParams q;
            if (out.qresync || !qresync(lx, q, limits)) return lx.fail("bad QRESYNC");
            out.qresync = std::move(q);
        } else {
            return lx.fail("unknown SELECT parameter");
        }
        if (lx.eat(')')) return lx.end();
        if (!lx.sp()) return false;
    }
}

bool parse_create_args(ImapLexer& lx, ImapCreate& out, const ImapParserLimits& limits) {
    if (!parse_mailbox(lx, out.mailbox)) return false;
    if (lx.at_end()) return true;
    if (!lx.sp() || !lx.eat('(')) return lx.fail("expected CREATE parameters");
    for (;;) {
        if (!lx.eat_keyword("USE")) return lx.fail("unknown CREATE parameter");
        if (!lx.sp() || !lx.eat('(')) return lx.fail("expected USE attributes");
        if (!lx.eat(')')) {
            for (;;) {
                std::string_view a;
                if (!lx.eat('\\') || !lx.atom(a)) return lx.fail("bad special-use attribute");
                if (out.special_use.size() >= limits.list_items_max)
                    return lx.fail_limit("too many special-use attributes");
                out.special_use.push_back("\\" + std::string(a));
                if (lx.eat(')')) break;
                if (!lx.sp()) return false;
            }
        }
        if (lx.eat(')')) return lx.end();
        if (!lx.sp()) return false;
    }
}

namespace {

bool list_select_opts(ImapLexer& lx, uint8_t& bits) {
    if (lx.eat(')')) return true;
    for (;;) {
        if (lx.eat_keyword("SUBSCRIBED")) {
            bits |= list_select_subscribed;
        } else if (lx.eat_keyword("REMOTE")) {
            bits |= list_select_remote;
        } else if (lx.eat_keyword("RECURSIVEMATCH")) {
            bits |= list_select_recursivematch;
        } else if (lx.eat_keyword("SPECIAL-USE")) {
            bits |= list_select_special_use;
        } else {
            return lx.fail("unknown LIST selection option");
        }
        if (lx.eat(')')) break;
        if (!lx.sp()) return false;
    }
    // RFC 5258 3.1: RECURSIVEMATCH only modifies another option.
    if ((bits & list_select_recursivematch) &&
        !(bits & (list_select_subscribed | list_select_special_use)))
        return lx.fail("RECURSIVEMATCH needs another selection option");
    return true;
}

bool list_return_opts(ImapLexer& lx, ImapList& out) {
    if (!lx.eat_keyword("RETURN") || !lx.sp() || !lx.eat('('))
        return lx.fail("expected RETURN options");
    if (lx.eat(')')) return lx.end();
    for (;;) {
        if (lx.eat_keyword("SUBSCRIBED")) {
            out.return_opts |= list_return_subscribed;
        } else if (lx.eat_keyword("CHILDREN")) {
            out.return_opts |= list_return_children;
        } else if (lx.eat_keyword("SPECIAL-USE")) {
            out.return_opts |= list_return_special_use;
        } else if (lx.eat_keyword("STATUS")) {
            out.return_opts |= list_return_status;
            if (!lx.sp() || !parse_status_items(lx, out.status_items)) return false;
        } else {
            return lx.fail("unknown LIST return option");
        }
        if (lx.eat(')')) return lx.end();
        if (!lx.sp()) return false;
    }
}

}  // namespace

bool parse_list_args(ImapLexer& lx, ImapList& out, const ImapParserLimits& limits) {
    if (lx.eat('(')) {
        out.extended = true;
        if (!list_select_opts(lx, out.select) || !lx.sp()) return false;
    }
    if (!parse_mailbox(lx, out.reference) || !lx.sp()) return false;
    if (lx.eat('(')) {
        out.extended = true;
        for (;;) {
            std::string p;
            if (!lx.list_mailbox(p)) return false;
            if (out.patterns.size() >= limits.list_items_max)
                return lx.fail_limit("too many LIST patterns");
            out.patterns.push_back(std::move(p));
            if (lx.eat(')')) break;
            if (!lx.sp()) return false;
        }
    } else {
        out.patterns.emplace_back();
        if (!lx.list_mailbox(out.patterns.back())) return false;
    }
    if (lx.at_end()) return true;
    out.extended = true;
    return lx.sp() && list_return_opts(lx, out);
}

}  // namespace postern
