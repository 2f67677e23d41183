// CREATE (RFC 3501 6.3.3, CREATE-SPECIAL-USE RFC 6154 3), DELETE (6.3.4) and RENAME (6.3.5).
// Names go to the store in its form (mailbox_name.h); its errors map in imap_errors.cc.
// RENAME INBOX follows RFC 3501: the messages move to the new folder and INBOX stays (the
// store cannot rename INBOX itself).
#include "imapd/imap_commands.h"
#include "libproto/core/ascii.h"

namespace postern {
namespace {

// RFC 6154 attribute names to SpecialUse bits; nullopt for an unknown one.
std::optional<uint8_t> special_use_bits(const std::vector<std::string>& names) {
    struct Use {
        std::string_view name;
        uint8_t bit;
    };
    static constexpr Use uses[] = {{"\\All", use_all},       {"\\Archive", use_archive},
                                   {"\\Drafts", use_drafts}, {"\\Flagged", use_flagged},
                                   {"\\Junk", use_junk},     {"\\Sent", use_sent},
                                   {"\\Trash", use_trash}};
    uint8_t bits = 0;
    for (const std::string& n : names) {
        bool known = false;
        for (const Use& u : uses) {
            if (iequals(n, u.name)) {
                bits |= u.bit;
                known = true;
            }
        }
        if (!known) return std::nullopt;
    }
    return bits;
}

using Result = std::shared_ptr<StoreResult<void>>;
Result new_result() {
    return std::make_shared<StoreResult<void>>(std::unexpected(StoreError::temporary));
}

void done(ImapSession& s, const Result& r, std::string_view ok_text) {
    if (!*r) return s.finish(store_error_reply(r->error()));
    s.finish(ImapResult::ok, ok_text);
}

}  // namespace

void cmd_create(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapCreate>(c.args);
    auto folder = s.store_name(a.mailbox);
    if (!folder) return s.finish(ImapSession::invalid_name_reply(a.mailbox));
    if (*folder == "INBOX")
        return s.finish(ImapResult::no, "INBOX always exists", ImapCode::alreadyexists);
    auto use = special_use_bits(a.special_use);
    if (!use) return s.finish(ImapResult::no, "Unknown special-use attribute", ImapCode::useattr);
    auto r = new_result();
    s.blocking([&store = s.backend().store(), user = *s.user(), f = *folder, bits = *use,
                r] { *r = store.create_folder(user, f, bits); },
               [&s, r] { done(s, r, "CREATE completed"); });
}

void cmd_delete(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapDelete>(c.args);
    auto folder = s.store_name(a.mailbox);
    if (!folder) return s.finish(ImapSession::invalid_name_reply(a.mailbox));
    if (*folder == "INBOX")
        return s.finish(ImapResult::no, "INBOX cannot be deleted", ImapCode::cannot);
    if (auto* sel = std::get_if<Selected>(&s.state()); sel && sel->folder == *folder)
        return s.finish(ImapResult::no, "Close the mailbox before deleting it", ImapCode::inuse);
    auto r = new_result();
    s.blocking([&store = s.backend().store(), user = *s.user(), f = *folder,
                r] { *r = store.delete_folder(user, f); },
               [&s, r] { done(s, r, "DELETE completed"); });
}

void cmd_rename(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapRename>(c.args);
    auto from = s.store_name(a.from);
    auto to = s.store_name(a.to);
    if (!from) return s.finish(ImapSession::invalid_name_reply(a.from));
    if (!to) return s.finish(ImapSession::invalid_name_reply(a.to));
    if (*to == "INBOX") return s.finish(ImapResult::no, "Cannot rename to INBOX", ImapCode::cannot);
    if (auto* sel = std::get_if<Selected>(&s.state()); sel && sel->folder == *from)
        return s.finish(ImapResult::no, "Close the mailbox before renaming it", ImapCode::inuse);
    auto r = new_result();
    s.blocking(
        [&store = s.backend().store(), user = *s.user(), f = *from, t = *to, r] {
            if (f != "INBOX") {
                *r = store.rename_folder(user, f, t);
                return;
            }
            // RFC 3501 6.3.5: all of INBOX's messages go to the new folder; INBOX stays.
            *r = store.create_folder(user, t);
            if (!*r) return;
            auto box = store.open_mailbox(user, "INBOX");
            if (!box) {
                *r = std::unexpected(box.error());
                return;
            }
            std::vector<uint32_t> uids;
            for (const MessageEntry& m : (*box)->messages()) uids.push_back(m.uid);
            if (uids.empty()) return;
            auto moved = (*box)->move_to(uids, t);
            if (!moved) *r = std::unexpected(moved.error());
        },
        [&s, r] { done(s, r, "RENAME completed"); });
}

}  // namespace postern
