#include "imapd/selected_view.h"

#include <algorithm>
#include <string>

#include "imapd/imap_flags.h"
#include "imapd/message_set.h"

namespace postern {

void write_expunges(std::string& out, const Mailbox& box, std::span<const uint32_t> expunged,
                    bool vanished) {
    if (expunged.empty()) return;
    if (vanished) {
        out.append("* VANISHED ");
        write_uid_set(out, expunged);
        out.append("\r\n");
        return;
    }
    auto snap = box.messages();
    for (uint32_t uid : expunged) {
        auto below = std::lower_bound(snap.begin(), snap.end(), uid,
                                      [](const MessageEntry& m, uint32_t u) { return m.uid < u; });
        out.append("* ")
            .append(std::to_string(static_cast<size_t>(below - snap.begin()) + 1))
            .append(" EXPUNGE\r\n");
    }
}

void write_flags_fetch(std::string& out, const Mailbox& box, uint32_t seq, const MessageEntry& m,
                       const uint64_t* modseq) {
    out.append("* ").append(std::to_string(seq)).append(" FETCH (UID ");
    out.append(std::to_string(m.uid)).append(" FLAGS ");
    write_flag_list(out, m.flags, box.keywords_of(m));
    if (modseq != nullptr) out.append(" MODSEQ (").append(std::to_string(*modseq)).append(")");
    out.append(")\r\n");
}

void write_mailbox_updates(std::string& out, const Mailbox& box, const MailboxDelta& delta,
                           UpdateStyle style, std::span<const MessageInfo> infos) {
    write_expunges(out, box, delta.expunged, style.vanished);
    if (!delta.added.empty() || !delta.expunged.empty()) {
        // After expunges the count is implied, but RFC 9051 clients track EXISTS: say it
        // whenever mail arrived.
        if (!delta.added.empty())
            out.append("* ").append(std::to_string(box.messages().size())).append(" EXISTS\r\n");
    }
    auto snap = box.messages();
    size_t j = 0;  // infos are ascending like delta.changed (Mailbox::info keeps the order)
    for (uint32_t uid : delta.changed) {
        uint32_t seq = sequence_of(snap, uid);
        if (seq == 0) continue;
        const uint64_t* modseq = nullptr;
        while (j < infos.size() && infos[j].uid < uid) ++j;
        if (style.modseq && j < infos.size() && infos[j].uid == uid) modseq = &infos[j].modseq;
        write_flags_fetch(out, box, seq, snap[seq - 1], modseq);
    }
}

}  // namespace postern
