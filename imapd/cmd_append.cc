// APPEND and MULTIAPPEND: see cmd_append.h for the flow.
#include "imapd/cmd_append.h"

#include <cstring>
#include <memory>

#include "imapd/imap_flags.h"
#include "imapd/mailbox_name.h"
#include "imapd/message_set.h"

namespace postern {
namespace {

constexpr ImapReply bad_flag{ImapResult::bad, ImapCode::none, "Invalid flag in APPEND"};
// RFC 6855 4: the UTF8 data item only after ENABLE UTF8=ACCEPT.
constexpr ImapReply utf8_not_enabled{ImapResult::bad, ImapCode::none,
                                     "UTF8 message data needs ENABLE UTF8=ACCEPT"};
constexpr ImapReply too_many{ImapResult::no, ImapCode::limit, "Too many messages in one APPEND"};

std::string appenduid_code(const std::vector<Delivered>& d) {
    std::string code = "APPENDUID ";
    code.append(std::to_string(d.front().uidvalidity)).append(" ");
    std::vector<uint32_t> uids;
    uids.reserve(d.size());
    for (const auto& x : d) uids.push_back(x.uid);
    write_uid_set(code, uids);
    return code;
}

}  // namespace

ImapAppend::ImapAppend(ImapSession& s, const ImapAppendBegin& b, std::optional<ImapReply> refusal)
    : s_(s), user_(s.user() != nullptr ? *s.user() : std::string()), refusal_(refusal),
      spool_(s.backend(), user_, [this] { on_spool_progress(); }) {
    if (refusal_) return;
    auto name = s.store_name(b.mailbox);
    if (!name) {
        refusal_ = mailbox_name_bad_utf8(b.mailbox)
                       ? ImapSession::invalid_name_reply(b.mailbox)
                       : store_error_reply(StoreError::invalid, StoreContext::target);
        return;
    }
    folder_ = std::move(*name);
    check_folder();
}

void ImapAppend::check_folder() {
    struct Check {
        StoreResult<FolderStatus> status = std::unexpected(StoreError::temporary);
        StoreResult<uint64_t> room = std::unexpected(StoreError::temporary);
    };
    auto c = std::make_shared<Check>();
    checking_ = true;
    s_.blocking(
        [c, store = &s_.backend().store(), user = user_, folder = folder_] {
            c->status = store->status(user, folder);
            if (c->status) c->room = store->quota_room(user);
        },
        [this, c] {
            checking_ = false;
            if (!c->status)
                return refuse(store_error_reply(c->status.error(), StoreContext::target));
            if (!c->room) return refuse(store_error_reply(c->room.error(), StoreContext::target));
            room_ = *c->room;
        });
}

void ImapAppend::refuse(ImapReply r) {
    if (!refusal_) refusal_ = r;
}

void ImapAppend::on_message(const ImapAppendMessage& m) {
    auto flags = parse_flag_names(m.flags);
    if (!refusal_ && !flags) refuse(bad_flag);
    if (!refusal_ && m.utf8 && !s_.enabled().utf8_accept) refuse(utf8_not_enabled);
    if (!refusal_ && items_.size() >= max_messages) refuse(too_many);
    // The quota's room, less what this APPEND already brought.
    if (!refusal_ && (m.size > room_ || accepted_ > room_ - m.size))
        refuse(store_error_reply(StoreError::over_quota, StoreContext::target));
    if (!refusal_ && spool_.error()) refuse(store_error_reply(*spool_.error()));
    if (refusal_) {
        // A synchronizing literal is never sent; a LITERAL+ one is read and dropped. The
        // parser then ends the APPEND with an ImapBad: on_bad answers it.
        s_.parser().refuse_literal();
        return;
    }
    if (m.synchronizing) s_.out().append("+ Ready for literal data\r\n");
    StagedItem item;
    item.flags = flags->flags;
    item.keywords = std::move(flags->keywords);
    item.internal_date = m.internal_date ? m.internal_date->to_unix() : 0;
    items_.push_back(std::move(item));
    accepted_ += m.size;
    left_ = m.size;
    binary_ = m.binary;
    spool_.begin_message();
    if (left_ == 0) spool_.end_message();
}

void ImapAppend::on_data(std::string_view bytes) {
    // RFC 3516 4.4: NUL octets only in literal8.
    if (!binary_ && std::memchr(bytes.data(), 0, bytes.size()) != nullptr) nul_ = true;
    spool_.write(bytes);
    left_ -= std::min<uint64_t>(left_, bytes.size());
    if (left_ == 0) spool_.end_message();
}

void ImapAppend::on_end() {
    ended_ = true;
    maybe_commit();
}

void ImapAppend::on_spool_progress() {
    maybe_commit();
    s_.resume_input();
}

void ImapAppend::maybe_commit() {
    if (!ended_ || committing_ || !spool_.idle()) return;
    committing_ = true;
    if (nul_) return s_.finish(ImapResult::no, "NUL octets need a literal8 (~{n}) message");
    if (auto e = spool_.error()) return s_.finish(store_error_reply(*e));
    auto result = std::make_shared<StoreResult<std::vector<Delivered>>>(
        std::unexpected(StoreError::temporary));
    s_.blocking(
        [result, files = spool_.files(), items = std::move(items_), store = &s_.backend().store(),
         user = user_, folder = folder_]() mutable {
            if (files->msgs.size() != items.size()) {
                *result = std::unexpected(StoreError::invalid);
            } else {
                for (size_t i = 0; i < items.size(); ++i) items[i].msg = files->msgs[i].get();
                *result = store->deliver_staged(user, folder, items);
            }
            files->msgs.clear();  // delivered (hard-linked) or not: the staged files go
        },
        [this, result] {
            if (!*result)
                return s_.finish(store_error_reply(result->error(), StoreContext::target));
            if (result->value().empty()) return s_.finish(ImapResult::ok, "APPEND completed");
            s_.finish_with_code(ImapResult::ok, appenduid_code(result->value()),
                                "APPEND completed");
        });
}

AppendEnding ImapAppend::on_bad(const ImapBad& b) const {
    if (b.reason == ImapBadReason::refused && refusal_)
        return {refusal_->status, imap_code_name(refusal_->code), refusal_->text};
    if (b.reason == ImapBadReason::literal_too_big)
        return {ImapResult::no, "TOOBIG", "Message too big"};
    return {ImapResult::bad, "", b.text};
}

}  // namespace postern
