// SORT and UID SORT (RFC 5256 section 3; DISPLAYFROM / DISPLAYTO of RFC 5957): the SEARCH
// criteria select (search_loader.h), sort_keys.h orders, "* SORT n n ..." answers (UIDs
// for UID SORT). Matching, value loading and the sort itself run on the pool.
#include <algorithm>

#include "imapd/imap_commands.h"
#include "imapd/search_response.h"
#include "imapd/sort_run.h"

namespace postern {

void cmd_sort(ImapSession& s, ImapCommand& c) {
    auto& a = std::get<ImapSort>(c.args);
    auto run = start_sort_run(s, a.charset, a.criteria_keys, sort_needs(a.criteria));
    if (!run) return;
    auto criteria = std::make_shared<std::vector<SortCriterion>>(a.criteria);
    bool uid = c.uid;
    collect_sort_values(s, run, [&s, run, criteria, uid] {
        auto text = std::make_shared<std::string>();
        s.blocking(
            [run, criteria, uid, text] {
                sort_by(run->values, *criteria);
                std::span<const MessageEntry> snap = run->box->messages();
                text->append("* SORT");
                SearchNumberWriter w(*text, false);
                for (const SortValues& v : run->values)
                    w.add(uid ? snap[v.position].uid : v.position + 1);
                text->append("\r\n");
            },
            [&s, text] { stream_and_finish(s, text, 0, "SORT completed"); });
    });
}

}  // namespace postern
