#include "imapd/search_matcher.h"

#include <algorithm>
#include <array>
#include <optional>

#include "imapd/search_fold.h"
#include "libproto/core/ascii.h"
#include "libproto/core/civil_date.h"
#include "libproto/mime/mime_date.h"
#include "libproto/mime/mime_encoded_word.h"

namespace postern {
namespace {

using T = SearchKeyType;

constexpr std::array<std::string_view, 10> env_names{"date",        "subject",   "from", "sender",
                                                     "reply-to",    "to",        "cc",   "bcc",
                                                     "in-reply-to", "message-id"};

class Compiler {
public:
    explicit Compiler(SearchPlan& p) : p_(p) {}

    void node(const SearchKey& k, SearchNode& n) {
        n.type = k.type;
        n.number = k.number;
        n.date = k.date;
        switch (k.type) {
        case T::and_:
        case T::or_:
        case T::not_:
            n.children.resize(k.children.size());
            for (size_t i = 0; i < k.children.size(); ++i) node(k.children[i], n.children[i]);
            return;
        case T::keyword:
        case T::unkeyword: n.text = k.text; return;
        case T::uid:
        case T::sequence: n.set = k.set; return;
        case T::before:
        case T::on:
        case T::since:
        case T::larger:
        case T::smaller:
        case T::older:
        case T::younger: p_.needs |= search_needs_info; return;
        case T::modseq:
            p_.needs |= search_needs_info;
            p_.has_modseq = true;
            return;
        case T::sentbefore:
        case T::senton:
        case T::sentsince:  // the Date: field, else the internal date
            p_.needs |= search_needs_info | search_needs_mime;
            return;
        case T::bcc:
        case T::cc:
        case T::from:
        case T::subject:
        case T::to:
            n.text = search_fold(k.text);
            p_.needs |= search_needs_mime;
            return;
        case T::header: {
            n.text = search_fold(k.text);
            n.field = ascii_lowered(k.field);
            auto it = std::find(env_names.begin(), env_names.end(), n.field);
            if (it != env_names.end()) {
                n.envelope = int(it - env_names.begin());
                p_.needs |= search_needs_mime;
                return;
            }
            n.slot = uint32_t(p_.header_keys.size());
            p_.header_keys.emplace_back(n.field, n.text);
            p_.needs |= search_needs_mime | search_needs_header;
            return;
        }
        case T::body:
        case T::text:
            n.text = search_fold(k.text);
            n.slot = uint32_t(p_.needles.size());
            p_.needles.push_back(n.text);
            p_.text_needle.push_back(k.type == T::text);
            p_.needs |= search_needs_mime | search_needs_body;
            if (k.type == T::text) p_.needs |= search_needs_header;
            return;
        default: return;
        }
    }

private:
    SearchPlan& p_;
};

Tri tri(bool b) { return b ? Tri::yes : Tri::no; }

const std::optional<std::string>* envelope_field(const MimeEnvelopeFields& e, int which) {
    switch (which) {
    case env_date: return &e.date;
    case env_subject: return &e.subject;
    case env_from: return &e.from;
    case env_sender: return &e.sender;
    case env_reply_to: return &e.reply_to;
    case env_to: return &e.to;
    case env_cc: return &e.cc;
    case env_bcc: return &e.bcc;
    case env_in_reply_to: return &e.in_reply_to;
    case env_message_id: return &e.message_id;
    default: return nullptr;
    }
}

int env_of(T t) {
    switch (t) {
    case T::bcc: return env_bcc;
    case T::cc: return env_cc;
    case T::from: return env_from;
    case T::subject: return env_subject;
    case T::to: return env_to;
    default: return -1;
    }
}

// The decoded, folded field contains the needle (an empty needle: the field is there).
Tri envelope_match(const SearchFacts& f, int which, const std::string& needle) {
    if (f.mime == nullptr) return Tri::unknown;
    const auto& env = f.mime->root().envelope;
    if (!env) return Tri::no;
    const std::optional<std::string>* v = envelope_field(*env, which);
    if (v == nullptr || !*v) return Tri::no;
    if (needle.empty()) return Tri::yes;
    return tri(search_fold(mime_decode_encoded_words(**v)).find(needle) != std::string::npos);
}

uint32_t day_number(const ImapDate& d) { return uint32_t(d.year) * 10000 + d.month * 100 + d.day; }

// The UTC calendar day of unix seconds as yyyymmdd.
uint32_t utc_day(int64_t t) {
    const CivilDate c = civil_from_days(t >= 0 ? t / 86400 : (t - 86399) / 86400);
    if (c.year < 0) return 0;
    return uint32_t(c.year) * 10000 + c.month * 100 + c.day;
}

// The day the message was sent as written in its Date: field (RFC 3501: "disregarding time
// and timezone"), else its internal date's.
std::optional<uint32_t> sent_day(const SearchFacts& f) {
    if (f.mime == nullptr || f.info == nullptr) return std::nullopt;
    const auto& env = f.mime->root().envelope;
    if (env && env->date) {
        if (auto d = mime_parse_date(*env->date))
            return uint32_t(d->year) * 10000 + d->month * 100 + d->day;
    }
    return utc_day(f.info->internal_date);
}

Tri compare_day(std::optional<uint32_t> have, const ImapDate& want, T kind) {
    if (!have) return Tri::unknown;
    uint32_t w = day_number(want);
    switch (kind) {
    case T::before:
    case T::sentbefore: return tri(*have < w);
    case T::on:
    case T::senton: return tri(*have == w);
    default: return tri(*have >= w);
    }
}

bool in_saved(const SearchContext& ctx, uint32_t uid) {
    return std::binary_search(ctx.saved.begin(), ctx.saved.end(), uid);
}

bool has_keyword(const SearchFacts& f, std::string_view kw) {
    if (f.keywords == nullptr) return false;
    return std::any_of(f.keywords->begin(), f.keywords->end(),
                       [&](const std::string& k) { return iequals(k, kw); });
}

Tri eval(const SearchNode& n, const SearchContext& ctx, const SearchFacts& f) {
    switch (n.type) {
    case T::and_: {
        Tri r = Tri::yes;
        for (const SearchNode& c : n.children) {
            Tri t = eval(c, ctx, f);
            if (t == Tri::no) return Tri::no;
            if (t == Tri::unknown) r = Tri::unknown;
        }
        return r;
    }
    case T::or_: {
        Tri r = Tri::no;
        for (const SearchNode& c : n.children) {
            Tri t = eval(c, ctx, f);
            if (t == Tri::yes) return Tri::yes;
            if (t == Tri::unknown) r = Tri::unknown;
        }
        return r;
    }
    case T::not_: {
        Tri t = n.children.empty() ? Tri::no : eval(n.children[0], ctx, f);
        return t == Tri::unknown ? t : tri(t == Tri::no);
    }
    case T::all: return Tri::yes;
    case T::answered: return tri((f.flags & flag_answered) != 0);
    case T::deleted: return tri((f.flags & flag_deleted) != 0);
    case T::draft: return tri((f.flags & flag_draft) != 0);
    case T::flagged: return tri((f.flags & flag_flagged) != 0);
    case T::seen: return tri((f.flags & flag_seen) != 0);
    case T::unanswered: return tri((f.flags & flag_answered) == 0);
    case T::undeleted: return tri((f.flags & flag_deleted) == 0);
    case T::undraft: return tri((f.flags & flag_draft) == 0);
    case T::unflagged: return tri((f.flags & flag_flagged) == 0);
    case T::unseen: return tri((f.flags & flag_seen) == 0);
    // \Recent is not kept (docs/imap.md): no message is recent, every one is old.
    case T::new_:
    case T::recent: return Tri::no;
    case T::old: return Tri::yes;
    case T::keyword: return tri(has_keyword(f, n.text));
    case T::unkeyword: return tri(!has_keyword(f, n.text));
    case T::uid:
        return tri(n.set.saved ? in_saved(ctx, f.uid) : n.set.contains(f.uid, ctx.max_uid));
    case T::sequence:
        return tri(n.set.saved ? in_saved(ctx, f.uid) : n.set.contains(f.seq, ctx.count));
    case T::before:
    case T::on:
    case T::since:
        if (f.info == nullptr) return Tri::unknown;
        return compare_day(utc_day(f.info->internal_date), n.date, n.type);
    case T::sentbefore:
    case T::senton:
    case T::sentsince: return compare_day(sent_day(f), n.date, n.type);
    case T::larger: return f.info ? tri(f.info->size > n.number) : Tri::unknown;
    case T::smaller: return f.info ? tri(f.info->size < n.number) : Tri::unknown;
    case T::older:
        return f.info ? tri(f.info->internal_date <= ctx.now - int64_t(n.number)) : Tri::unknown;
    case T::younger:
        return f.info ? tri(f.info->internal_date > ctx.now - int64_t(n.number)) : Tri::unknown;
    case T::modseq: return f.info ? tri(f.info->modseq >= n.number) : Tri::unknown;
    case T::bcc:
    case T::cc:
    case T::from:
    case T::subject:
    case T::to: return envelope_match(f, env_of(n.type), n.text);
    case T::header:
        if (n.envelope >= 0) return envelope_match(f, n.envelope, n.text);
        if (f.header_hits == nullptr) return Tri::unknown;
        return tri((*f.header_hits)[n.slot]);
    case T::body:
        if (f.body_hits == nullptr) return Tri::unknown;
        return tri((*f.body_hits)[n.slot]);
    case T::text:
        if (f.text_header_hits != nullptr && (*f.text_header_hits)[n.slot]) return Tri::yes;
        if (f.body_hits == nullptr) return Tri::unknown;
        return tri((*f.body_hits)[n.slot]);
    }
    return Tri::no;
}

}  // namespace

SearchPlan compile_search(const SearchKey& criteria) {
    SearchPlan p;
    Compiler(p).node(criteria, p.root);
    return p;
}

Tri search_match(const SearchPlan& plan, const SearchContext& ctx, const SearchFacts& f) {
    return eval(plan.root, ctx, f);
}

}  // namespace postern
