// THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES (thread_build.h) over
// the messages the SEARCH criteria select; "* THREAD (1 (2)(3))(4)"; other algorithms are
// NO. Matching, value loading (REFERENCES also reads each root header for References:, which
// the MIME cache does not keep) and threading run on the pool.
#include "imapd/imap_commands.h"
#include "imapd/sort_run.h"
#include "imapd/thread_build.h"

namespace postern {

void cmd_thread(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapThread>(c.args);
    bool references = a.algorithm == "REFERENCES";
    if (!references && a.algorithm != "ORDEREDSUBJECT")
        return s.finish(ImapResult::no, "Threading algorithm not supported");
    uint8_t needs = sort_needs_info | sort_needs_mime;
    if (references) needs |= sort_needs_references;
    auto run = start_sort_run(s, a.charset, a.criteria, needs);
    if (!run) return;
    bool uid = c.uid;
    collect_sort_values(s, run, [&s, run, uid, references] {
        auto text = std::make_shared<std::string>();
        s.blocking(
            [run, uid, references, text] {
                std::span<const MessageEntry> snap = run->box->messages();
                std::vector<uint32_t> number(snap.size());
                for (size_t i = 0; i < snap.size(); ++i)
                    number[i] = uid ? snap[i].uid : uint32_t(i + 1);
                auto threads = references ? thread_references(run->values, number)
                                          : thread_ordered_subject(run->values, number);
                text->append(threads.empty() ? "* THREAD" : "* THREAD ");
                write_thread_list(*text, threads);
                text->append("\r\n");
            },
            [&s, text] { stream_and_finish(s, text, 0, "THREAD completed"); });
    });
}

}  // namespace postern
