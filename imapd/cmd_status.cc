// STATUS (RFC 3501 6.3.10, RFC 9051 6.3.11; SIZE RFC 8438, HIGHESTMODSEQ RFC 7162,
// APPENDLIMIT RFC 7889) from the store's folder status, without opening a snapshot unless
// DELETED is asked for. RECENT is always 0 (docs/imap.md).
#include "imapd/imap_commands.h"
#include "libproto/imap/imap_string.h"

namespace postern {

StoreResult<StatusData> read_status(MailStore& store, const std::string& user,
                                    const std::string& folder, uint16_t items) {
    StatusData d;
    auto st = store.status(user, folder);
    if (!st) return std::unexpected(st.error());
    d.status = *st;
    if ((items & status_deleted) != 0) {
        auto box = store.open_mailbox(user, folder);
        if (!box) return std::unexpected(box.error());
        for (const MessageEntry& m : (*box)->messages())
            if ((m.flags & flag_deleted) != 0) ++d.deleted;
    }
    return d;
}

void write_status(std::string& out, std::string_view client_name, bool utf8, const StatusData& d,
                  uint16_t items, uint64_t append_limit) {
    out.append("* STATUS ");
    imap_write_string(out, client_name, utf8);
    out.append(" (");
    bool first = true;
    auto item = [&](std::string_view name, uint64_t v) {
        if (!first) out.push_back(' ');
        first = false;
        out.append(name).append(" ").append(std::to_string(v));
    };
    const FolderStatus& st = d.status;
    if ((items & status_messages) != 0) item("MESSAGES", st.messages);
    if ((items & status_recent) != 0) item("RECENT", 0);
    if ((items & status_uidnext) != 0) item("UIDNEXT", st.uidnext);
    if ((items & status_uidvalidity) != 0) item("UIDVALIDITY", st.uidvalidity);
    if ((items & status_unseen) != 0) item("UNSEEN", st.unseen);
    if ((items & status_deleted) != 0) item("DELETED", d.deleted);
    if ((items & status_size) != 0) item("SIZE", st.size);
    if ((items & status_highestmodseq) != 0) item("HIGHESTMODSEQ", st.highestmodseq);
    if ((items & status_appendlimit) != 0) item("APPENDLIMIT", append_limit);
    out.append(")\r\n");
}

void cmd_status(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapStatus>(c.args);
    auto folder = s.store_name(a.mailbox);
    if (!folder) return s.finish(ImapSession::invalid_name_reply(a.mailbox));
    auto r = std::make_shared<StoreResult<StatusData>>(std::unexpected(StoreError::temporary));
    s.blocking([&store = s.backend().store(), user = *s.user(), f = *folder, items = a.items,
                r] { *r = read_status(store, user, f, items); },
               [&s, r, name = a.mailbox, items = a.items] {
                   if (!*r) return s.finish(store_error_reply(r->error()));
                   write_status(s.out(), name, s.enabled().utf8_accept, **r, items,
                                s.options().append_limit);
                   s.finish(ImapResult::ok, "STATUS completed");
               });
}

}  // namespace postern
