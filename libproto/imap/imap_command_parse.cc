#include "libproto/imap/imap_command_parse.h"

#include "libproto/core/ascii.h"
#include "libproto/imap/imap_args.h"
#include "libproto/imap/imap_lexer.h"

namespace postern {
namespace {

using Id = ImapCommandId;

SearchLimits search_limits(const ImapParserLimits& l) {
    return {l.search_keys_max, l.depth_max, l.sequence_ranges_max};
}

// An atom upper-cased (mechanism and capability names).
bool upper_atom(ImapLexer& lx, std::string& out) {
    std::string_view a;
    if (!lx.atom(a)) return false;
    out = ascii_uppered(a);
    return true;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

bool authenticate(ImapLexer& lx, ImapAuthenticate& c) {
    if (!upper_atom(lx, c.mechanism)) return false;
    if (lx.at_end()) return true;
    if (!lx.sp()) return false;
    std::string_view ir;
    if (!lx.atom(ir)) return lx.fail("bad initial response");
    for (char ch : ir)
        if (!is_base64_char(ch)) return lx.fail("bad initial response");
    c.initial = ir == "=" ? std::string() : std::string(ir);
    return true;
}

// [SP RETURN SP "(" [opt *(SP opt)] ")"] [SP CHARSET SP astring] SP criteria
bool search(ImapLexer& lx, ImapSearch& c, const ImapParserLimits& limits) {
    if (lx.eat_keyword("RETURN")) {
        c.esearch = true;
        if (!lx.sp() || !lx.eat('(')) return lx.fail("expected RETURN options");
        if (!lx.eat(')')) {
            for (;;) {
                if (lx.eat_keyword("MIN")) {
                    c.return_opts |= search_return_min;
                } else if (lx.eat_keyword("MAX")) {
                    c.return_opts |= search_return_max;
                } else if (lx.eat_keyword("ALL")) {
                    c.return_opts |= search_return_all;
                } else if (lx.eat_keyword("COUNT")) {
                    c.return_opts |= search_return_count;
                } else if (lx.eat_keyword("SAVE")) {
                    c.return_opts |= search_return_save;
                } else {
                    return lx.fail("unknown SEARCH return option");
                }
                if (lx.eat(')')) break;
                if (!lx.sp()) return false;
            }
        }
        if (c.return_opts == 0) c.return_opts = search_return_all;  // RFC 4731 3.1
        if (!lx.sp()) return false;
    }
    if (lx.eat_keyword("CHARSET")) {
        if (!lx.sp() || !lx.astring(c.charset) || !lx.sp()) return false;
    }
    return parse_search_criteria(lx, c.criteria, search_limits(limits));
}

// SP set SP attrs [SP "(" modifier *(SP modifier) ")"]
bool fetch(ImapLexer& lx, ImapFetch& c, const ImapParserLimits& limits) {
    if (!parse_sequence_set(lx, c.set, limits.sequence_ranges_max) || !lx.sp() ||
        !parse_fetch_attrs(lx, c.attrs, limits.fetch_items_max))
        return false;
    if (lx.at_end()) return true;
    if (!lx.sp() || !lx.eat('(')) return lx.fail("expected FETCH modifiers");
    for (;;) {
        if (lx.eat_keyword("CHANGEDSINCE")) {
            uint64_t n = 0;
            if (!lx.sp() || !lx.nz_number64(n)) return false;
            c.changedsince = n;
        } else if (lx.eat_keyword("VANISHED")) {
            c.vanished = true;
        } else {
            return lx.fail("unknown FETCH modifier");
        }
        if (lx.eat(')')) break;
        if (!lx.sp()) return false;
    }
    // RFC 7162 3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE.
    if (c.vanished && (!c.uid || !c.changedsince))
        return lx.fail("VANISHED needs UID FETCH and CHANGEDSINCE");
    return lx.end();
}

bool store(ImapLexer& lx, ImapStore& c, const ImapParserLimits& limits) {
    if (!parse_sequence_set(lx, c.set, limits.sequence_ranges_max) || !lx.sp()) return false;
    if (lx.eat('(')) {
        uint64_t n = 0;
        if (!lx.eat_keyword("UNCHANGEDSINCE") || !lx.sp() || !lx.number(n) || !lx.eat(')') ||
            !lx.sp())
            return lx.fail("bad STORE modifier");
        c.unchangedsince = n;
    }
    if (lx.eat('+')) {
        c.op = StoreOp::add;
    } else if (lx.eat('-')) {
        c.op = StoreOp::remove;
    }
    if (lx.eat_keyword("FLAGS.SILENT")) {
        c.silent = true;
    } else if (!lx.eat_keyword("FLAGS")) {
        return lx.fail("expected FLAGS");
    }
    if (!lx.sp()) return false;
    if (lx.peek() == '(') return parse_flag_list(lx, c.flags, limits.list_items_max) && lx.end();
    for (;;) {
        std::string f;
        if (!parse_flag(lx, f)) return false;
        if (c.flags.size() >= limits.list_items_max) return lx.fail_limit("too many flags");
        c.flags.push_back(std::move(f));
        if (lx.at_end()) return true;
        if (!lx.sp()) return false;
    }
}

bool id_params(ImapLexer& lx, ImapId& c) {
    if (lx.eat_keyword("NIL")) return lx.end();
    if (!lx.eat('(')) return lx.fail("expected ID parameters");
    c.fields.emplace();
    for (;;) {
        std::string key;
        std::optional<std::string> value;
        if (!lx.string(key) || !lx.sp() || !lx.nstring(value)) return false;
        if (c.fields->size() >= 30) return lx.fail_limit("too many ID fields");  // RFC 2971
        c.fields->emplace_back(std::move(key), std::move(value));
        if (lx.eat(')')) return lx.end();
        if (!lx.sp()) return false;
    }
}

bool setquota(ImapLexer& lx, ImapSetquota& c, const ImapParserLimits& limits) {
    if (!lx.astring(c.root) || !lx.sp() || !lx.eat('(')) return lx.fail("bad SETQUOTA");
    if (lx.eat(')')) return lx.end();
    for (;;) {
        std::string name;
        uint64_t n = 0;
        if (!upper_atom(lx, name) || !lx.sp() || !lx.number(n)) return false;
        if (c.limits.size() >= limits.list_items_max) return lx.fail_limit("too many limits");
        c.limits.emplace_back(std::move(name), n);
        if (lx.eat(')')) return lx.end();
        if (!lx.sp()) return false;
    }
}

template <class C>
bool set_and_mailbox(ImapLexer& lx, C& c, const ImapParserLimits& limits) {
    return parse_sequence_set(lx, c.set, limits.sequence_ranges_max) && lx.sp() &&
           parse_mailbox(lx, c.mailbox) && lx.end();
}

// The arguments of command `id` after its name, into `cmd.args`.
bool arguments(ImapLexer& lx, Id id, ImapCommand& cmd, const ImapParserLimits& limits) {
    auto no_args = [&](auto v) {
        cmd.args = v;
        return lx.end();
    };
    // Commands with arguments need the SP after the name.
    switch (id) {
    case Id::capability: return no_args(ImapCapability{});
    case Id::noop: return no_args(ImapNoop{});
    case Id::logout: return no_args(ImapLogout{});
    case Id::starttls: return no_args(ImapStarttls{});
    case Id::check: return no_args(ImapCheck{});
    case Id::close: return no_args(ImapClose{});
    case Id::unselect: return no_args(ImapUnselect{});
    case Id::idle: return no_args(ImapIdle{});
    case Id::namespace_: return no_args(ImapNamespace{});
    case Id::expunge:
        if (!cmd.uid) return no_args(ImapExpunge{});
        break;
    default: break;
    }
    if (!lx.sp()) return false;
    switch (id) {
    case Id::authenticate: {
        auto& c = cmd.args.emplace<ImapAuthenticate>();
        return authenticate(lx, c) && lx.end();
    }
    case Id::login: {
        auto& c = cmd.args.emplace<ImapLogin>();
        return lx.astring(c.user) && lx.sp() && lx.astring(c.password) && lx.end();
    }
    case Id::select:
    case Id::examine: {
        auto& c = cmd.args.emplace<ImapSelect>();
        c.examine = id == Id::examine;
        return parse_select_args(lx, c, limits) && lx.end();
    }
    case Id::create: {
        auto& c = cmd.args.emplace<ImapCreate>();
        return parse_create_args(lx, c, limits) && lx.end();
    }
    case Id::delete_mailbox:
        return parse_mailbox(lx, cmd.args.emplace<ImapDelete>().mailbox) && lx.end();
    case Id::rename: {
        auto& c = cmd.args.emplace<ImapRename>();
        return parse_mailbox(lx, c.from) && lx.sp() && parse_mailbox(lx, c.to) && lx.end();
    }
    case Id::subscribe:
        return parse_mailbox(lx, cmd.args.emplace<ImapSubscribe>().mailbox) && lx.end();
    case Id::unsubscribe:
        return parse_mailbox(lx, cmd.args.emplace<ImapUnsubscribe>().mailbox) && lx.end();
    case Id::list: return parse_list_args(lx, cmd.args.emplace<ImapList>(), limits) && lx.end();
    case Id::lsub: {
        auto& c = cmd.args.emplace<ImapLsub>();
        return parse_mailbox(lx, c.reference) && lx.sp() && lx.list_mailbox(c.pattern) && lx.end();
    }
    case Id::status: {
        auto& c = cmd.args.emplace<ImapStatus>();
        return parse_mailbox(lx, c.mailbox) && lx.sp() && parse_status_items(lx, c.items) &&
               lx.end();
    }
    case Id::expunge: {
        auto& c = cmd.args.emplace<ImapExpunge>();
        c.uid = true;
        return parse_sequence_set(lx, c.uids, limits.sequence_ranges_max) && lx.end();
    }
    case Id::search: {
        auto& c = cmd.args.emplace<ImapSearch>();
        c.uid = cmd.uid;
        return search(lx, c, limits);
    }
    case Id::fetch: {
        auto& c = cmd.args.emplace<ImapFetch>();
        c.uid = cmd.uid;
        return fetch(lx, c, limits);
    }
    case Id::store: {
        auto& c = cmd.args.emplace<ImapStore>();
        c.uid = cmd.uid;
        return store(lx, c, limits);
    }
    case Id::copy: {
        auto& c = cmd.args.emplace<ImapCopy>();
        c.uid = cmd.uid;
        return set_and_mailbox(lx, c, limits);
    }
    case Id::move: {
        auto& c = cmd.args.emplace<ImapMove>();
        c.uid = cmd.uid;
        return set_and_mailbox(lx, c, limits);
    }
    case Id::enable: {
        auto& c = cmd.args.emplace<ImapEnable>();
        for (;;) {
            std::string cap;
            if (!upper_atom(lx, cap)) return false;
            if (c.capabilities.size() >= limits.list_items_max)
                return lx.fail_limit("too many capabilities");
            c.capabilities.push_back(std::move(cap));
            if (lx.at_end()) return true;
            if (!lx.sp()) return false;
        }
    }
    case Id::id: return id_params(lx, cmd.args.emplace<ImapId>());
    case Id::getquota: return lx.astring(cmd.args.emplace<ImapGetquota>().root) && lx.end();
    case Id::getquotaroot:
        return parse_mailbox(lx, cmd.args.emplace<ImapGetquotaroot>().mailbox) && lx.end();
    case Id::setquota: return setquota(lx, cmd.args.emplace<ImapSetquota>(), limits);
    case Id::compress:
        return upper_atom(lx, cmd.args.emplace<ImapCompress>().mechanism) && lx.end();
    case Id::sort: {
        auto& c = cmd.args.emplace<ImapSort>();
        c.uid = cmd.uid;
        return parse_sort_criteria(lx, c.criteria) && lx.sp() && lx.astring(c.charset) && lx.sp() &&
               parse_search_criteria(lx, c.criteria_keys, search_limits(limits));
    }
    case Id::thread: {
        auto& c = cmd.args.emplace<ImapThread>();
        c.uid = cmd.uid;
        return upper_atom(lx, c.algorithm) && lx.sp() && lx.astring(c.charset) && lx.sp() &&
               parse_search_criteria(lx, c.criteria, search_limits(limits));
    }
    default: return lx.fail("unknown command");
    }
}

// tag SP [UID SP] name: the command's id (unknown when it is not one).
Id command_name(ImapLexer& lx, bool& uid) {
    std::string_view name;
    uid = false;
    if (!lx.atom(name)) return Id::unknown;
    if (iequals(name, "UID")) {
        uid = true;
        if (!lx.sp() || !lx.atom(name)) return Id::unknown;
    }
    const ImapCommandSpec* spec = find_imap_command(name);
    if (!spec) return Id::unknown;
    if (uid && !(spec->flags & imap_cmd_uid)) return Id::unknown;
    return spec->id;
}

}  // namespace

ImapCommandId imap_peek_command(std::string_view buf, bool* uid) {
    ImapLexer lx(buf);
    std::string_view tag;
    bool u = false;
    if (!lx.tag(tag) || !lx.sp()) return Id::unknown;
    Id id = command_name(lx, u);
    if (uid) *uid = u;
    return id;
}

std::expected<ImapCommand, ImapParseError> parse_imap_command(std::string_view framed,
                                                              const ImapParserLimits& limits) {
    ImapLexer lx(framed);
    std::string_view tag;
    if (!lx.tag(tag) || !lx.sp())
        return std::unexpected(ImapParseError{ImapBadReason::syntax, "bad tag", Id::unknown});
    ImapCommand cmd;
    cmd.tag.assign(tag);
    cmd.id = command_name(lx, cmd.uid);
    if (cmd.id == Id::unknown)
        return std::unexpected(
            ImapParseError{ImapBadReason::unknown_command, "unknown command", Id::unknown});
    if (cmd.id == Id::append)
        return std::unexpected(
            ImapParseError{ImapBadReason::syntax, "APPEND needs a message literal", cmd.id});
    if (!arguments(lx, cmd.id, cmd, limits)) {
        ImapParseError e{lx.limit_exceeded() ? ImapBadReason::limit : ImapBadReason::syntax,
                         lx.error().empty() ? std::string_view("syntax error") : lx.error(),
                         cmd.id};
        return std::unexpected(e);
    }
    return cmd;
}

}  // namespace postern
