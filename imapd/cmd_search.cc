// SEARCH and UID SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4) with CHARSET UTF-8 / US-ASCII
// (others: NO [BADCHARSET (UTF-8 US-ASCII)]), the MODSEQ key and "(MODSEQ n)" (RFC 7162
// 3.1.5; using it enables CONDSTORE), ESEARCH's RETURN (MIN MAX COUNT ALL) (RFC 4731;
// always the ESEARCH form after ENABLE IMAP4rev2) and RETURN (SAVE) for "$" (RFC 5182).
//
// The criteria are compiled once (search_matcher.h) and matched batch by batch on the pool
// (search_loader.h): each batch is one s.blocking() call, so a large folder never holds
// the loop and other sessions run between batches. The answer then streams with
// backpressure. The snapshot cannot move while the command runs (imap_session.h), so
// positions found by one batch stay valid for the next.
#include <ctime>

#include "imapd/imap_commands.h"
#include "imapd/search_loader.h"
#include "imapd/search_response.h"
#include "libproto/core/ascii.h"

namespace postern {
namespace {

constexpr size_t kNumbersPerWrite = 4096;

struct SearchJob {
    std::shared_ptr<Mailbox> box;
    SearchPlan plan;
    SearchContext ctx;
    SearchBudget budget;
    SearchMatches matches;
    uint32_t pos = 0;
    bool uid = false;
    bool esearch = false;
    uint8_t return_opts = 0;
    std::string tag;
    // The answer being written.
    std::vector<uint32_t> numbers;  // UIDs or sequence numbers, ascending
    std::optional<SearchNumberWriter> writer;
    size_t written = 0;
};
using Job = std::shared_ptr<SearchJob>;

bool charset_supported(std::string_view cs) {
    return cs.empty() || iequals(cs, "UTF-8") || iequals(cs, "US-ASCII");
}

void forget_saved(ImapSession& s, uint8_t opts) {
    if ((opts & search_return_save) == 0) return;
    if (auto* sel = std::get_if<Selected>(&s.state())) sel->saved = std::vector<uint32_t>{};
}

// The tail of the answer and the tagged OK.
void end_answer(ImapSession& s, const Job& job) {
    std::optional<uint64_t> modseq;
    if (job->plan.has_modseq) {
        for (size_t i : modseq_scope(job->return_opts, job->esearch, job->matches.positions.size()))
            modseq = std::max(modseq.value_or(0), job->matches.modseqs[i]);
    }
    std::string& out = s.out();
    if (job->esearch) {
        if (esearch_answers(job->return_opts)) {
            if (modseq) out.append(" MODSEQ ").append(std::to_string(*modseq));
            out.append("\r\n");
        }
    } else {
        if (modseq) out.append(" (MODSEQ ").append(std::to_string(*modseq)).append(")");
        out.append("\r\n");
    }
    s.finish(ImapResult::ok, "SEARCH completed");
}

// Writes the number list piece by piece, pausing while the client is behind.
void write_numbers(ImapSession& s, const Job& job) {
    while (job->written < job->numbers.size()) {
        size_t end = std::min(job->numbers.size(), job->written + kNumbersPerWrite);
        for (; job->written < end; ++job->written) job->writer->add(job->numbers[job->written]);
        if (job->written == job->numbers.size()) job->writer->finish();
        if (s.output_full()) return s.wait_for_drain([&s, job] { write_numbers(s, job); });
    }
    end_answer(s, job);
}

void answer(ImapSession& s, const Job& job) {
    auto* sel = std::get_if<Selected>(&s.state());
    if (sel == nullptr) return s.finish(refusal_reply(ImapRefusal::no_mailbox_selected));
    std::span<const MessageEntry> snap = sel->box->messages();
    std::vector<uint32_t> uids;
    uids.reserve(job->matches.positions.size());
    for (uint32_t p : job->matches.positions) uids.push_back(snap[p].uid);
    if (job->return_opts & search_return_save) sel->saved = saved_result(job->return_opts, uids);
    if (job->uid) {
        job->numbers = std::move(uids);
    } else {
        job->numbers.reserve(job->matches.positions.size());
        for (uint32_t p : job->matches.positions) job->numbers.push_back(p + 1);
    }
    std::string& out = s.out();
    if (!job->esearch) {
        out.append("* SEARCH");
        job->writer.emplace(out, false);
        return write_numbers(s, job);
    }
    if (!esearch_answers(job->return_opts)) return end_answer(s, job);
    write_esearch_head(out, {job->tag, job->uid, job->return_opts}, job->numbers);
    if ((job->return_opts & search_return_all) == 0) job->numbers.clear();
    job->writer.emplace(out, true);
    write_numbers(s, job);
}

void run_batch(ImapSession& s, const Job& job) {
    auto r = std::make_shared<StoreResult<uint32_t>>(std::unexpected(StoreError::temporary));
    s.blocking(
        [job, r] {
            *r = search_batch(*job->box, job->plan, job->ctx, job->pos, job->budget, job->matches);
        },
        [&s, job, r] {
            if (!*r) {
                forget_saved(s, job->return_opts);
                return s.finish(store_error_reply(r->error(), StoreContext::messages));
            }
            job->pos = **r;
            if (job->pos < job->ctx.count) return run_batch(s, job);
            answer(s, job);
        });
}

}  // namespace

void cmd_search(ImapSession& s, ImapCommand& c) {
    Selected& sel = std::get<Selected>(s.state());
    auto& a = std::get<ImapSearch>(c.args);
    // RFC 6855 3: after ENABLE UTF8=ACCEPT a CHARSET conflicts with UTF-8 strings (IMAP4rev2
    // keeps CHARSET, RFC 9051 6.4.4).
    if (!a.charset.empty() && s.enabled().utf8_accept && !s.enabled().imap4rev2) {
        forget_saved(s, a.return_opts);
        return s.finish(ImapResult::bad, "No CHARSET after ENABLE UTF8=ACCEPT");
    }
    if (!charset_supported(a.charset)) {
        forget_saved(s, a.return_opts);
        return s.finish_with_code(ImapResult::no, "BADCHARSET (UTF-8 US-ASCII)",
                                  "Charset not supported");
    }
    auto job = std::make_shared<SearchJob>();
    job->box = sel.box;
    job->plan = compile_search(a.criteria);
    if (job->plan.has_modseq) s.enabled().condstore = true;  // RFC 7162 3.1
    // Snapshot and info() keys alone read no message: bigger batches, fewer round trips.
    if ((job->plan.needs & ~search_needs_info) == 0) job->budget.max_messages = 20000;
    std::span<const MessageEntry> snap = sel.box->messages();
    job->ctx.count = uint32_t(snap.size());
    job->ctx.max_uid = snap.empty() ? 0 : snap.back().uid;
    if (sel.saved) job->ctx.saved = *sel.saved;  // "$" before any SAVE is empty
    job->ctx.now = std::time(nullptr);
    job->uid = c.uid;
    job->esearch = a.esearch || s.enabled().imap4rev2;
    job->return_opts = a.esearch ? a.return_opts : job->esearch ? search_return_all : 0;
    job->tag = c.tag;
    if (job->ctx.count == 0) return answer(s, job);
    run_batch(s, job);
}

}  // namespace postern
