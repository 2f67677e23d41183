// THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT (thread_build.h) over the messages the
// SEARCH criteria select; "* THREAD (1 (2)(3))(4)". REFERENCES is not implemented (not
// announced): it answers NO. Matching, value loading and threading run on the pool.
#include "imapd/imap_commands.h"
#include "imapd/sort_run.h"
#include "imapd/thread_build.h"

namespace postern {

void cmd_thread(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapThread>(c.args);
    if (a.algorithm != "ORDEREDSUBJECT")
        return s.finish(ImapResult::no, "Threading algorithm not supported");
    auto run = start_sort_run(s, a.charset, a.criteria, sort_needs_info | sort_needs_mime);
    if (!run) return;
    bool uid = c.uid;
    collect_sort_values(s, run, [&s, run, uid] {
        auto text = std::make_shared<std::string>();
        s.blocking(
            [run, uid, text] {
                std::span<const MessageEntry> snap = run->box->messages();
                std::vector<uint32_t> number(snap.size());
                for (size_t i = 0; i < snap.size(); ++i)
                    number[i] = uid ? snap[i].uid : uint32_t(i + 1);
                auto threads = thread_ordered_subject(run->values, number);
                text->append(threads.empty() ? "* THREAD" : "* THREAD ");
                write_thread_list(*text, threads);
                text->append("\r\n");
            },
            [&s, text] { stream_and_finish(s, text, 0, "THREAD completed"); });
    });
}

}  // namespace postern
