#pragma once
// Helpers for the IMAP parser tests: events as short text (so a table can say what it
// expects) and drivers that feed an input whole, byte by byte or split at a position.

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "libproto/imap/imap_parser.h"

namespace postern::imap_test {

std::string describe_set(const SequenceSet& s);
std::string describe_search(const SearchKey& k);
std::string describe_command(const ImapCommand& c);
// One event as text; AppendData as "DATA <bytes>".
std::string describe(const ImapEvent& ev);

enum class LiteralPolicy { accept, refuse };

// Feeds `pieces` one after another, calling next() until NeedMore after each; consecutive
// AppendData are merged, NeedMore is left out.
std::vector<std::string> run(ImapParser& p, const std::vector<std::string_view>& pieces,
                             LiteralPolicy policy = LiteralPolicy::accept);
std::vector<std::string> run_whole(std::string_view in, const ImapParserLimits& limits = {},
                                   LiteralPolicy policy = LiteralPolicy::accept);
std::vector<std::string> run_bytes(std::string_view in, const ImapParserLimits& limits = {},
                                   LiteralPolicy policy = LiteralPolicy::accept);
std::vector<std::string> run_split(std::string_view in, size_t at,
                                   const ImapParserLimits& limits = {},
                                   LiteralPolicy policy = LiteralPolicy::accept);

std::string join(const std::vector<std::string>& v);

namespace detail {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

inline std::string list(const std::vector<std::string>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
    return s + ")";
}

inline std::string date(const ImapDate& d) {
    return std::to_string(d.year) + "-" + std::to_string(d.month) + "-" + std::to_string(d.day);
}

inline std::string section(const BodySection& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.part.size(); ++i) out += (i ? "." : "") + std::to_string(s.part[i]);
    static const char* texts[] = {"",     "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
                                  "TEXT", "MIME"};
    if (s.text != SectionText::none)
        out += std::string(s.part.empty() ? "" : ".") + texts[int(s.text)];
    if (!s.fields.empty()) out += " " + list(s.fields);
    return out + "]";
}

inline std::string fetch_attr(const FetchAttr& a) {
    static const char* names[] = {"FLAGS",         "INTERNALDATE", "RFC822",   "RFC822.HEADER",
                                  "RFC822.SIZE",   "RFC822.TEXT",  "ENVELOPE", "BODY",
                                  "BODYSTRUCTURE", "UID",          "MODSEQ",   "BODY",
                                  "BINARY",        "BINARY.SIZE"};
    std::string s = names[int(a.item)];
    if (a.peek) s += ".PEEK";
    if (a.item == FetchItem::body_section || a.item == FetchItem::binary ||
        a.item == FetchItem::binary_size)
        s += section(a.section);
    if (a.partial)
        s += "<" + std::to_string(a.partial->offset) + "." + std::to_string(a.partial->count) + ">";
    return s;
}

}  // namespace detail

using namespace detail;

inline std::string describe_set(const SequenceSet& s) {
    if (s.saved) return "$";
    std::string out;
    auto num = [](uint32_t v) {
        return v == SequenceSet::star ? std::string("*") : std::to_string(v);
    };
    for (size_t i = 0; i < s.ranges.size(); ++i) {
        if (i) out += ",";
        out += num(s.ranges[i].first);
        if (s.ranges[i].last != s.ranges[i].first) out += ":" + num(s.ranges[i].last);
    }
    return out;
}

inline std::string describe_search(const SearchKey& k) {
    static const char* names[] = {
        "AND",     "OR",        "NOT",        "ALL",     "ANSWERED",  "DELETED",    "DRAFT",
        "FLAGGED", "NEW",       "OLD",        "RECENT",  "SEEN",      "UNANSWERED", "UNDELETED",
        "UNDRAFT", "UNFLAGGED", "UNSEEN",     "KEYWORD", "UNKEYWORD", "BCC",        "BODY",
        "CC",      "FROM",      "SUBJECT",    "TEXT",    "TO",        "HEADER",     "BEFORE",
        "ON",      "SINCE",     "SENTBEFORE", "SENTON",  "SENTSINCE", "LARGER",     "SMALLER",
        "OLDER",   "YOUNGER",   "UID",        "SEQ",     "MODSEQ"};
    std::string s = names[int(k.type)];
    using T = SearchKeyType;
    switch (k.type) {
    case T::and_:
    case T::or_:
    case T::not_:
        s += "(";
        for (size_t i = 0; i < k.children.size(); ++i)
            s += (i ? " " : "") + describe_search(k.children[i]);
        return s + ")";
    case T::keyword:
    case T::unkeyword:
    case T::bcc:
    case T::body:
    case T::cc:
    case T::from:
    case T::subject:
    case T::text:
    case T::to: return s + " " + k.text;
    case T::header: return s + " " + k.field + " " + k.text;
    case T::before:
    case T::on:
    case T::since:
    case T::sentbefore:
    case T::senton:
    case T::sentsince: return s + " " + date(k.date);
    case T::larger:
    case T::smaller:
    case T::older:
    case T::younger: return s + " " + std::to_string(k.number);
    case T::uid:
    case T::sequence: return s + " " + describe_set(k.set);
    case T::modseq:
        return s + (k.field.empty() ? "" : " " + k.field + " " + k.text) + " " +
               std::to_string(k.number);
    default: return s;
    }
}

inline std::string describe_command(const ImapCommand& c) {
    std::ostringstream o;
    o << c.tag << " " << (c.uid ? "UID " : "") << imap_command_name(c.id);
    std::visit(
        overloaded{
            [&](const ImapAuthenticate& a) {
                o << " " << a.mechanism;
                if (a.initial) o << " ir=[" << *a.initial << "]";
            },
            [&](const ImapLogin& a) { o << " [" << a.user << "] [" << a.password << "]"; },
            [&](const ImapSelect& a) {
                o << " [" << a.mailbox << "]";
                if (a.examine) o << " examine";
                if (a.condstore) o << " condstore";
                if (a.qresync) {
                    o << " qresync " << a.qresync->uidvalidity << " " << a.qresync->modseq;
                    if (a.qresync->known_uids)
                        o << " uids=" << describe_set(*a.qresync->known_uids);
                    if (a.qresync->known_seqs)
                        o << " match=" << describe_set(*a.qresync->known_seqs) << "/"
                          << describe_set(*a.qresync->known_seq_uids);
                }
            },
            [&](const ImapCreate& a) {
                o << " [" << a.mailbox << "]";
                if (!a.special_use.empty()) o << " use=" << list(a.special_use);
            },
            [&](const ImapDelete& a) { o << " [" << a.mailbox << "]"; },
            [&](const ImapRename& a) { o << " [" << a.from << "] [" << a.to << "]"; },
            [&](const ImapSubscribe& a) { o << " [" << a.mailbox << "]"; },
            [&](const ImapUnsubscribe& a) { o << " [" << a.mailbox << "]"; },
            [&](const ImapList& a) {
                o << " [" << a.reference << "] " << list(a.patterns) << " sel=" << int(a.select)
                  << " ret=" << int(a.return_opts) << " status=" << a.status_items
                  << (a.extended ? " ext" : "");
            },
            [&](const ImapLsub& a) { o << " [" << a.reference << "] [" << a.pattern << "]"; },
            [&](const ImapStatus& a) { o << " [" << a.mailbox << "] " << a.items; },
            [&](const ImapExpunge& a) {
                if (a.uid) o << " " << describe_set(a.uids);
            },
            [&](const ImapSearch& a) {
                if (a.esearch) o << " return=" << int(a.return_opts);
                if (!a.charset.empty()) o << " charset=" << a.charset;
                o << " " << describe_search(a.criteria);
            },
            [&](const ImapFetch& a) {
                o << " " << describe_set(a.set) << " (";
                for (size_t i = 0; i < a.attrs.size(); ++i)
                    o << (i ? " " : "") << fetch_attr(a.attrs[i]);
                o << ")";
                if (a.changedsince) o << " changedsince=" << *a.changedsince;
                if (a.vanished) o << " vanished";
            },
            [&](const ImapStore& a) {
                o << " " << describe_set(a.set) << " "
                  << (a.op == StoreOp::add      ? "+"
                      : a.op == StoreOp::remove ? "-"
                                                : "=")
                  << (a.silent ? "silent " : "") << list(a.flags);
                if (a.unchangedsince) o << " unchangedsince=" << *a.unchangedsince;
            },
            [&](const ImapCopy& a) { o << " " << describe_set(a.set) << " [" << a.mailbox << "]"; },
            [&](const ImapMove& a) { o << " " << describe_set(a.set) << " [" << a.mailbox << "]"; },
            [&](const ImapEnable& a) { o << " " << list(a.capabilities); },
            [&](const ImapId& a) {
                if (!a.fields) {
                    o << " NIL";
                    return;
                }
                for (const auto& [k, v] : *a.fields) o << " " << k << "=" << (v ? *v : "NIL");
            },
            [&](const ImapGetquota& a) { o << " [" << a.root << "]"; },
            [&](const ImapGetquotaroot& a) { o << " [" << a.mailbox << "]"; },
            [&](const ImapSetquota& a) {
                o << " [" << a.root << "]";
                for (const auto& [k, v] : a.limits) o << " " << k << "=" << v;
            },
            [&](const ImapCompress& a) { o << " " << a.mechanism; },
            [&](const ImapSort& a) {
                o << " (";
                for (size_t i = 0; i < a.criteria.size(); ++i)
                    o << (i ? " " : "") << (a.criteria[i].reverse ? "-" : "")
                      << int(a.criteria[i].key);
                o << ") " << a.charset << " " << describe_search(a.criteria_keys);
            },
            [&](const ImapThread& a) {
                o << " " << a.algorithm << " " << a.charset << " " << describe_search(a.criteria);
            },
            [&](const auto&) {},
        },
        c.args);
    return o.str();
}

inline std::string describe(const ImapEvent& ev) {
    static const char* reasons[] = {"syntax",          "unknown_command", "line_too_long",
                                    "literal_too_big", "command_too_big", "limit",
                                    "refused"};
    return std::visit(
        overloaded{
            [](const ImapNeedMore&) { return std::string("NEEDMORE"); },
            [](const ImapNeedLiteral& l) {
                return "LITERAL " + std::to_string(l.size) + (l.synchronizing ? "" : "+");
            },
            [](const ImapCommand& c) { return describe_command(c); },
            [](const ImapBad& b) {
                return "BAD [" + b.tag + "] " + reasons[int(b.reason)] + " " +
                       std::string(imap_command_name(b.id));
            },
            [](const ImapAppendBegin& b) { return "APPEND " + b.tag + " [" + b.mailbox + "]"; },
            [](const ImapAppendMessage& m) {
                std::string s = "MESSAGE " + std::to_string(m.size) + (m.synchronizing ? "" : "+") +
                                (m.binary ? " binary" : "") + " " + list(m.flags);
                if (m.internal_date)
                    s += " " + date(m.internal_date->date) + " " +
                         std::to_string(m.internal_date->to_unix());
                return s;
            },
            [](const ImapAppendData& d) { return "DATA " + std::string(d.bytes); },
            [](const ImapAppendEnd&) { return std::string("END"); },
            [](const ImapIdleDone&) { return std::string("DONE"); },
            [](const ImapSaslResponse& r) { return "SASL [" + r.line + "]"; },
            [](const ImapSaslCancel&) { return std::string("SASL-CANCEL"); },
        },
        ev);
}

inline std::vector<std::string> run(ImapParser& p, const std::vector<std::string_view>& pieces,
                                    LiteralPolicy policy) {
    std::vector<std::string> out;
    for (std::string_view piece : pieces) {
        p.feed(piece);
        for (;;) {
            ImapEvent ev = p.next();
            if (std::holds_alternative<ImapNeedMore>(ev)) break;
            if (auto* d = std::get_if<ImapAppendData>(&ev)) {
                if (!out.empty() && out.back().starts_with("DATA ")) {
                    out.back().append(d->bytes);
                    continue;
                }
            }
            out.push_back(describe(ev));
            bool lit = std::holds_alternative<ImapNeedLiteral>(ev) ||
                       std::holds_alternative<ImapAppendMessage>(ev);
            if (lit && policy == LiteralPolicy::refuse) p.refuse_literal();
            // The session's part of IDLE and AUTHENTICATE.
            if (auto* c = std::get_if<ImapCommand>(&ev)) {
                if (c->id == ImapCommandId::idle) p.expect_done();
                if (c->id == ImapCommandId::authenticate) p.expect_sasl_response();
            }
        }
    }
    return out;
}

inline std::vector<std::string> run_whole(std::string_view in, const ImapParserLimits& limits,
                                          LiteralPolicy policy) {
    ImapParser p(limits);
    return run(p, {in}, policy);
}

inline std::vector<std::string> run_bytes(std::string_view in, const ImapParserLimits& limits,
                                          LiteralPolicy policy) {
    ImapParser p(limits);
    std::vector<std::string_view> pieces;
    for (size_t i = 0; i < in.size(); ++i) pieces.push_back(in.substr(i, 1));
    return run(p, pieces, policy);
}

inline std::vector<std::string> run_split(std::string_view in, size_t at,
                                          const ImapParserLimits& limits, LiteralPolicy policy) {
    ImapParser p(limits);
    return run(p, {in.substr(0, at), in.substr(at)}, policy);
}

inline std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += e + "\n";
    return s;
}

}  // namespace postern::imap_test
