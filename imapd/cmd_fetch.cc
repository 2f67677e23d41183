// FETCH and UID FETCH (RFC 3501 6.4.5 / 6.4.8, RFC 9051 6.4.5, BINARY RFC 3516, CONDSTORE
// and QRESYNC RFC 7162 3.1.4 / 3.2.6). The response is made on the pool by a FetchJob
// (fetch_job.h), one bounded piece per round: each piece goes to the client, and when the
// output is above the transport's mark the command waits for it to drain before the next
// round, so memory per connection stays bounded whatever the FETCH asks for.
//
// FETCH by sequence number never sees an EXPUNGE (the command table says it uses sequence
// numbers); a message another session expunged meanwhile is left out and the reply is
// NO [EXPUNGEISSUED] (RFC 9051 7.1). UID FETCH just leaves it out; the refresh before its
// tagged OK then tells the client.
#include <memory>

#include "imapd/fetch_job.h"
#include "imapd/imap_commands.h"
#include "imapd/message_set.h"

namespace postern {
namespace {

constexpr size_t kRoundBytes = 256 * 1024;  // response bytes made per pool round

bool condstore_item(const ImapFetch& f) {
    for (const FetchAttr& a : f.attrs)
        if (a.item == FetchItem::modseq) return true;
    return f.changedsince.has_value();
}

void finish_fetch(ImapSession& s, bool uid, const FetchJob& job) {
    if (job.unknown_cte())
        return s.finish_with_code(ImapResult::no, "UNKNOWN-CTE",
                                  "Cannot decode this part's content transfer encoding");
    if (auto e = job.error()) return s.finish(store_error_reply(*e, StoreContext::messages));
    if (job.skipped_expunged() && !uid)
        return s.finish(ImapResult::no, "Some of the requested messages no longer exist",
                        ImapCode::expungeissued);
    s.finish(ImapResult::ok, "FETCH completed");
}

void fetch_round(ImapSession& s, bool uid, const std::shared_ptr<FetchJob>& job) {
    auto done = std::make_shared<bool>(false);
    s.blocking([job, done] { *done = job->produce(kRoundBytes); },
               [&s, uid, job, done] {
                   std::string& piece = job->output();
                   if (s.out().empty()) {
                       s.out().swap(piece);  // the session flushed before the round
                   } else {
                       s.out().append(piece);
                   }
                   piece.clear();
                   if (*done) return finish_fetch(s, uid, *job);
                   if (s.output_full())
                       return s.wait_for_drain([&s, uid, job] { fetch_round(s, uid, job); });
                   fetch_round(s, uid, job);
               });
}

}  // namespace

void cmd_fetch(ImapSession& s, ImapCommand& c) {
    Selected& sel = std::get<Selected>(s.state());
    const auto& a = std::get<ImapFetch>(c.args);
    bool uid = c.uid;
    // RFC 7162 3.2.6: VANISHED is for clients that enabled QRESYNC.
    if (a.vanished && !s.enabled().qresync)
        return s.finish(ImapResult::bad, "VANISHED needs ENABLE QRESYNC");
    auto uids =
        resolve_message_set(a.set, uid, sel.box->messages(), sel.saved ? &*sel.saved : nullptr);
    if (!uids) return s.finish(refusal_reply(uids.error()));
    // RFC 7162 3.1: MODSEQ and CHANGEDSINCE are CONDSTORE-enabling.
    if (condstore_item(a)) s.enabled().condstore = true;
    auto job = std::make_shared<FetchJob>(
        sel.box,
        make_fetch_plan(a, uid, sel.read_only, s.enabled().condstore, s.enabled().utf8_accept),
        std::move(*uids));
    if (!a.changedsince) return fetch_round(s, uid, job);
    struct Changed {
        StoreResult<std::vector<uint32_t>> vanished = std::unexpected(StoreError::temporary);
    };
    auto r = std::make_shared<Changed>();
    s.blocking(
        [job, r, modseq = *a.changedsince, set = a.set] {
            r->vanished = job->keep_changed_since(modseq, set);
        },
        [&s, uid, job, r, vanished = a.vanished] {
            if (!r->vanished)
                return s.finish(store_error_reply(r->vanished.error(), StoreContext::messages));
            if (vanished && !r->vanished->empty()) {
                s.out().append("* VANISHED (EARLIER) ");
                write_uid_set(s.out(), *r->vanished);
                s.out().append("\r\n");
            }
            fetch_round(s, uid, job);
        });
}

}  // namespace postern
