#include "imapd/sort_run.h"

#include <ctime>

#include "libproto/core/ascii.h"

namespace postern {
namespace {

constexpr size_t kPiece = 32 * 1024;

void value_batches(ImapSession& s, const std::shared_ptr<SortRun>& run,
                   std::function<void()> done) {
    if (run->next_value >= run->matches.positions.size()) return done();
    auto r = std::make_shared<StoreResult<size_t>>(std::unexpected(StoreError::temporary));
    s.blocking(
        [run, r] {
            *r = sort_values_batch(*run->box, run->needs, run->matches.positions, run->next_value,
                                   run->budget, run->values);
        },
        [&s, run, r, done = std::move(done)]() mutable {
            if (!*r) return s.finish(store_error_reply(r->error(), StoreContext::messages));
            run->next_value = **r;
            value_batches(s, run, std::move(done));
        });
}

void search_batches(ImapSession& s, const std::shared_ptr<SortRun>& run,
                    std::function<void()> done) {
    if (run->pos >= run->ctx.count) return value_batches(s, run, std::move(done));
    auto r = std::make_shared<StoreResult<uint32_t>>(std::unexpected(StoreError::temporary));
    s.blocking(
        [run, r] {
            *r = search_batch(*run->box, run->plan, run->ctx, run->pos, run->budget, run->matches);
        },
        [&s, run, r, done = std::move(done)]() mutable {
            if (!*r) return s.finish(store_error_reply(r->error(), StoreContext::messages));
            run->pos = **r;
            search_batches(s, run, std::move(done));
        });
}

}  // namespace

std::shared_ptr<SortRun> start_sort_run(ImapSession& s, std::string_view charset,
                                        const SearchKey& criteria, uint8_t needs) {
    if (!charset.empty() && !iequals(charset, "UTF-8") && !iequals(charset, "US-ASCII")) {
        s.finish_with_code(ImapResult::no, "BADCHARSET (UTF-8 US-ASCII)", "Charset not supported");
        return nullptr;
    }
    Selected& sel = std::get<Selected>(s.state());
    auto run = std::make_shared<SortRun>();
    run->box = sel.box;
    run->plan = compile_search(criteria);
    if (run->plan.has_modseq) s.enabled().condstore = true;
    std::span<const MessageEntry> snap = sel.box->messages();
    run->ctx.count = uint32_t(snap.size());
    run->ctx.max_uid = snap.empty() ? 0 : snap.back().uid;
    if (sel.saved) run->ctx.saved = *sel.saved;
    run->ctx.now = std::time(nullptr);
    run->needs = needs;
    return run;
}

void collect_sort_values(ImapSession& s, const std::shared_ptr<SortRun>& run,
                         std::function<void()> done) {
    search_batches(s, run, std::move(done));
}

void stream_and_finish(ImapSession& s, const std::shared_ptr<std::string>& text, size_t at,
                       std::string_view ok_text) {
    while (at < text->size()) {
        size_t n = std::min(kPiece, text->size() - at);
        s.out().append(*text, at, n);
        at += n;
        if (at < text->size() && s.output_full()) {
            return s.wait_for_drain(
                [&s, text, at, ok_text] { stream_and_finish(s, text, at, ok_text); });
        }
    }
    s.finish(ImapResult::ok, ok_text);
}

}  // namespace postern
