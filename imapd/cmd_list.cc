// LIST (RFC 3501 6.3.8, RFC 9051 6.3.9) with LIST-EXTENDED (RFC 5258: SUBSCRIBED, REMOTE,
// RECURSIVEMATCH, SPECIAL-USE selection; SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS return
// options), CHILDREN attributes always, SPECIAL-USE attributes (RFC 6154) always, LIST-STATUS
// (RFC 5819) and LSUB (RFC 3501 6.3.9). The folder list, the subscriptions and any STATUS
// data are read in one pool job, which also formats the response (it needs nothing of the
// session but a few values).
#include <map>

#include "imapd/imap_commands.h"
#include "imapd/mailbox_name.h"
#include "libproto/imap/imap_string.h"

namespace postern {
namespace {

struct Node {
    bool exists = false;
    bool subscribed = false;
    bool has_children = false;
    bool subscribed_child = false;  // some descendant is subscribed (RECURSIVEMATCH)
    uint8_t special_use = 0;
};

struct ListParams {
    std::string user;
    std::string reference;
    std::vector<std::string> patterns;
    uint8_t select = 0;
    uint8_t return_opts = 0;
    uint16_t status_items = 0;
    bool extended = false;
    bool lsub = false;
    bool utf8 = false;
    uint64_t append_limit = 0;
};

void special_use_attrs(std::string& a, uint8_t bits) {
    struct Use {
        uint8_t bit;
        std::string_view name;
    };
    static constexpr Use uses[] = {{use_all, "\\All"},       {use_archive, "\\Archive"},
                                   {use_drafts, "\\Drafts"}, {use_flagged, "\\Flagged"},
                                   {use_junk, "\\Junk"},     {use_sent, "\\Sent"},
                                   {use_trash, "\\Trash"}};
    for (const Use& u : uses)
        if ((bits & u.bit) != 0) a.append(" ").append(u.name);
}

// Every name a LIST may show: the folders, their missing parents, and subscriptions.
std::map<std::string, Node> build_tree(const std::vector<FolderEntry>& folders,
                                       const std::vector<std::string>& subs) {
    std::map<std::string, Node> t;
    for (const FolderEntry& f : folders) {
        Node& n = t[f.name];
        n.exists = true;
        n.special_use = f.special_use;
        n.has_children = n.has_children || f.has_children;
    }
    for (const std::string& s : subs) t[s].subscribed = true;
    // Parents of every name: present (implied when missing), with children.
    std::vector<std::string> names;
    names.reserve(t.size());
    for (const auto& [name, node] : t) names.push_back(name);
    for (const std::string& name : names) {
        bool sub = t[name].subscribed;
        bool real = t[name].exists;
        for (size_t p = name.rfind(mailbox_delimiter); p != std::string::npos && p > 0;
             p = name.rfind(mailbox_delimiter, p - 1)) {
            Node& parent = t[name.substr(0, p)];
            if (real) parent.has_children = true;
            if (sub) parent.subscribed_child = true;
            if (p == 0) break;
        }
    }
    return t;
}

bool matches(const ListParams& p, const std::string& client) {
    for (const std::string& pat : p.patterns)
        if (list_match(p.reference + pat, client)) return true;
    return false;
}

std::string run_list(MailStore& store, const ListParams& p, StoreError& err) {
    auto folders = store.folders(p.user);
    if (!folders) {
        err = folders.error();
        return {};
    }
    auto subs = store.subscriptions(p.user);
    if (!subs) {
        err = subs.error();
        return {};
    }
    auto tree = build_tree(*folders, *subs);
    bool sel_sub = (p.select & list_select_subscribed) != 0;
    bool recursive = (p.select & list_select_recursivematch) != 0;
    bool sel_special = (p.select & list_select_special_use) != 0;
    bool ret_sub = sel_sub || (p.return_opts & list_return_subscribed) != 0;
    bool ret_status = (p.return_opts & list_return_status) != 0;
    std::string out;
    for (const auto& [name, n] : tree) {
        std::string client = client_mailbox_name(name, p.utf8);
        if (!matches(p, client)) continue;
        bool childinfo = false;
        if (p.lsub) {
            if (!n.subscribed) continue;
        } else {
            if (!n.exists && !n.subscribed && !n.has_children) continue;
            if (sel_sub && !n.subscribed) {
                if (!(recursive && n.subscribed_child)) continue;
                childinfo = true;
            }
            if (!sel_sub && !n.exists && !n.has_children) continue;
            if (sel_special && n.special_use == 0) continue;
        }
        std::string attrs;
        if (!n.exists)
            attrs.append(p.extended && !n.has_children ? " \\NonExistent" : " \\Noselect");
        if (!p.lsub) attrs.append(n.has_children ? " \\HasChildren" : " \\HasNoChildren");
        if (ret_sub && n.subscribed && !p.lsub) attrs.append(" \\Subscribed");
        if (!p.lsub) special_use_attrs(attrs, n.special_use);
        out.append(p.lsub ? "* LSUB (" : "* LIST (");
        if (!attrs.empty()) out.append(attrs.substr(1));
        out.append(") \"/\" ");
        imap_write_string(out, client, p.utf8);
        if (childinfo) out.append(" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        out.append("\r\n");
        if (ret_status && n.exists) {
            auto st = read_status(store, p.user, name, p.status_items);
            // A folder that went meanwhile just has no STATUS line (RFC 5819 allows it).
            if (st) write_status(out, client, p.utf8, *st, p.status_items, p.append_limit);
        }
    }
    return out;
}

void list(ImapSession& s, ListParams p, std::string_view done_text) {
    p.user = *s.user();
    p.utf8 = s.enabled().utf8_accept;
    p.append_limit = s.options().append_limit;
    struct Job {
        std::string out;
        StoreError err = StoreError::temporary;
        bool ok = false;
    };
    auto job = std::make_shared<Job>();
    s.blocking(
        [&store = s.backend().store(), p = std::move(p), job] {
            job->err = StoreError::loop;  // a marker: unchanged means success
            job->out = run_list(store, p, job->err);
            job->ok = job->err == StoreError::loop;
        },
        [&s, job, done_text] {
            if (!job->ok) return s.finish(store_error_reply(job->err));
            s.out().append(job->out);
            s.finish(ImapResult::ok, done_text);
        });
}

}  // namespace

void cmd_list(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapList>(c.args);
    // LIST "" "": the hierarchy delimiter and the root.
    if (!a.extended && a.patterns.size() == 1 && a.patterns[0].empty()) {
        s.out().append("* LIST (\\Noselect) \"/\" \"\"\r\n");
        return s.finish(ImapResult::ok, "LIST completed");
    }
    ListParams p;
    p.reference = a.reference;
    p.patterns = std::move(a.patterns);
    p.select = a.select;
    p.return_opts = a.return_opts;
    p.status_items = a.status_items;
    p.extended = a.extended;
    list(s, std::move(p), "LIST completed");
}

void cmd_lsub(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapLsub>(c.args);
    ListParams p;
    p.reference = a.reference;
    p.patterns = {a.pattern};
    p.lsub = true;
    list(s, std::move(p), "LSUB completed");
}

}  // namespace postern
