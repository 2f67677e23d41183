#include "imapd/search_loader.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "imapd/search_fold.h"
#include "imapd/search_text.h"
#include "libproto/core/ascii.h"
#include "libproto/mime/mime_encoded_word.h"
#include "libproto/mime/mime_text.h"

namespace postern {
namespace {

constexpr size_t kChunk = 64 * 1024;

bool gone(StoreError e) { return e == StoreError::expunged || e == StoreError::not_found; }

// One message's expensive facts, loaded stage by stage.
class DeepMatcher {
public:
    DeepMatcher(Mailbox& box, const SearchPlan& plan, const SearchContext& ctx,
                std::vector<char>& buf, CacheSlotBatch& pending)
        : box_(box), plan_(plan), ctx_(ctx), buf_(buf), pending_(pending) {}

    uint64_t bytes_read() const { return bytes_; }

    // The final answer for a message the cheap facts left unknown; nullopt when it is gone.
    StoreResult<bool> match(SearchFacts f) {
        reader_.reset();
        auto mime = load_mime(f.uid);
        if (!mime)
            return gone(mime.error()) ? false : StoreResult<bool>(std::unexpected(mime.error()));
        f.mime = &*mime;
        Tri t = search_match(plan_, ctx_, f);
        std::vector<bool> header_hits(plan_.header_keys.size(), false);
        std::vector<bool> text_hits(plan_.needles.size(), false);
        if (t == Tri::unknown && (plan_.needs & search_needs_header) != 0) {
            if (auto r = scan_header(f.uid, *mime, header_hits, text_hits); !r)
                return gone(r.error()) ? false : StoreResult<bool>(std::unexpected(r.error()));
            f.header_hits = &header_hits;
            f.text_header_hits = &text_hits;
            t = search_match(plan_, ctx_, f);
        }
        std::vector<bool> body_hits;
        if (t == Tri::unknown && (plan_.needs & search_needs_body) != 0) {
            auto r = scan_body(f.uid, *mime, text_hits);
            if (!r) return gone(r.error()) ? false : StoreResult<bool>(std::unexpected(r.error()));
            body_hits = std::move(*r);
            f.body_hits = &body_hits;
            t = search_match(plan_, ctx_, f);
        }
        return t == Tri::yes;
    }

private:
    StoreResult<MessageReader*> reader(uint32_t uid) {
        if (!reader_) {
            auto r = box_.open_message(uid);
            if (!r) return std::unexpected(r.error());
            reader_ = std::move(*r);
        }
        return reader_.get();
    }

    // Calls on_chunk with the bytes [start, start + len) of the message.
    template <class F>
    StoreResult<void> read_range(uint32_t uid, uint64_t start, uint64_t len, F&& on_chunk) {
        auto r = reader(uid);
        if (!r) return std::unexpected(r.error());
        uint64_t end = start + len;
        for (uint64_t at = start; at < end;) {
            size_t want = size_t(std::min<uint64_t>(buf_.size(), end - at));
            auto n = (*r)->read_at(at, std::span<char>(buf_.data(), want));
            if (!n) return std::unexpected(n.error());
            if (*n == 0) break;
            bytes_ += *n;
            at += *n;
            if (!on_chunk(std::string_view(buf_.data(), *n))) break;
        }
        return {};
    }

    StoreResult<MimeMessage> load_mime(uint32_t uid) {
        return load_message_structure(box_, uid, reader_, buf_, pending_, &bytes_);
    }

    StoreResult<void> scan_header(uint32_t uid, const MimeMessage& m, std::vector<bool>& hits,
                                  std::vector<bool>& text_hits) {
        bool any_text = std::find(plan_.text_needle.begin(), plan_.text_needle.end(), true) !=
                        plan_.text_needle.end();
        std::string folded;
        std::string line;
        SearchHeaderReader hr([&](std::string_view name, std::string_view value) {
            std::string decoded;
            bool have = false;
            for (size_t i = 0; i < plan_.header_keys.size(); ++i) {
                if (hits[i] || !iequals(plan_.header_keys[i].first, name)) continue;
                if (!have) {
                    folded = search_fold(mime_decode_encoded_words(value));
                    have = true;
                }
                hits[i] = folded.find(plan_.header_keys[i].second) != std::string::npos;
            }
            if (!any_text) return;
            line.assign(name).append(": ").append(mime_decode_encoded_words(value));
            std::string fl = search_fold(line);
            for (size_t i = 0; i < plan_.needles.size(); ++i)
                if (plan_.text_needle[i] && !text_hits[i])
                    text_hits[i] = fl.find(plan_.needles[i]) != std::string::npos;
        });
        const MimePart& root = m.root();
        auto r = read_range(uid, root.header_start, root.header_size, [&](std::string_view b) {
            hr.feed(b);
            return !hr.done();
        });
        hr.finish();
        return r;
    }

    // Body hits per needle; TEXT needles already found in the header count as found.
    StoreResult<std::vector<bool>> scan_body(uint32_t uid, const MimeMessage& m,
                                             const std::vector<bool>& text_hits) {
        std::vector<std::string> needles;
        for (size_t i = 0; i < plan_.needles.size(); ++i)
            needles.push_back(text_hits[i] ? std::string() : plan_.needles[i]);
        SearchTextScanner sc(std::move(needles));
        std::string utf8, folded;
        for (size_t pi = 0; pi < m.parts.size() && !sc.all_hit(); ++pi) {
            const MimePart& p = m.parts[pi];
            if (pi != 0 && p.envelope) {  // an attached message's header is body text
                sc.break_text();
                SearchHeaderReader hr([&](std::string_view name, std::string_view value) {
                    utf8.assign(name).append(": ").append(mime_decode_encoded_words(value));
                    folded.clear();
                    search_fold_append(utf8, folded);
                    sc.feed(folded);
                    sc.break_text();
                });
                auto r = read_range(uid, p.header_start, p.header_size, [&](std::string_view b) {
                    hr.feed(b);
                    return !hr.done();
                });
                if (!r) return std::unexpected(r.error());
                hr.finish();
            }
            if (!p.children.empty()) continue;
            if (!p.opaque && !iequals(p.fields.type, "text")) continue;  // images, PDFs, ...
            sc.break_text();
            MimeTextDecoder dec(p);
            auto r = read_range(uid, p.body_start, p.body_size, [&](std::string_view b) {
                utf8.clear();
                dec.feed(b, utf8);
                folded.clear();
                search_fold_append(utf8, folded);
                sc.feed(folded);
                return !sc.all_hit();
            });
            if (!r) return std::unexpected(r.error());
            utf8.clear();
            dec.finish(utf8);
            folded.clear();
            search_fold_append(utf8, folded);
            sc.feed(folded);
        }
        return sc.hits();
    }

    Mailbox& box_;
    const SearchPlan& plan_;
    const SearchContext& ctx_;
    std::vector<char>& buf_;
    CacheSlotBatch& pending_;
    std::unique_ptr<MessageReader> reader_;
    uint64_t bytes_ = 0;
};

}  // namespace

StoreResult<uint32_t> search_batch(Mailbox& box, const SearchPlan& plan, const SearchContext& ctx,
                                   uint32_t pos, const SearchBudget& budget, SearchMatches& out) {
    auto start = std::chrono::steady_clock::now();
    std::span<const MessageEntry> snap = box.messages();
    if (pos >= snap.size()) return uint32_t(snap.size());
    auto end = uint32_t(std::min<size_t>(snap.size(), size_t(pos) + budget.max_messages));

    // Stage 0 (snapshot) and 1 (info) for the whole batch.
    std::vector<Tri> verdict(end - pos, Tri::unknown);
    std::vector<uint32_t> want_info;
    auto facts_of = [&](uint32_t i) {
        SearchFacts f;
        f.seq = i + 1;
        f.uid = snap[i].uid;
        f.flags = snap[i].flags;
        f.keywords = &box.keywords_of(snap[i]);
        return f;
    };
    for (uint32_t i = pos; i < end; ++i) {
        // With MODSEQ every match needs its modseq for the response: info for all.
        verdict[i - pos] = plan.has_modseq ? Tri::unknown : search_match(plan, ctx, facts_of(i));
        if (verdict[i - pos] == Tri::unknown) want_info.push_back(snap[i].uid);
    }
    std::vector<MessageInfo> infos;
    if ((plan.needs & search_needs_info) != 0 && !want_info.empty()) {
        auto r = box.info(want_info);
        if (!r) return std::unexpected(r.error());
        infos = std::move(*r);  // in the order asked, expunged ones left out
    }
    const bool with_info = (plan.needs & search_needs_info) != 0;
    std::vector<char> buf(kChunk);
    CacheSlotBatch pending;
    DeepMatcher deep(box, plan, ctx, buf, pending);
    // What this batch parsed goes to the cache as one store write, however the batch ends.
    struct FlushAtEnd {
        CacheSlotBatch& pending;
        Mailbox& box;
        ~FlushAtEnd() { pending.flush(box); }
    } flush_at_end{pending, box};
    size_t k = 0;  // next in infos
    uint32_t i = pos;
    for (; i < end; ++i) {
        Tri& v = verdict[i - pos];
        const MessageInfo* info = nullptr;
        if (v == Tri::unknown && with_info) {
            while (k < infos.size() && infos[k].uid < snap[i].uid) ++k;
            if (k < infos.size() && infos[k].uid == snap[i].uid) info = &infos[k];
            if (info == nullptr) continue;  // expunged meanwhile: no match
            SearchFacts f = facts_of(i);
            f.info = info;
            v = search_match(plan, ctx, f);
            if (v == Tri::unknown) {
                auto r = deep.match(f);
                if (!r) return std::unexpected(r.error());
                v = *r ? Tri::yes : Tri::no;
            }
        } else if (v == Tri::unknown) {
            auto r = deep.match(facts_of(i));
            if (!r) return std::unexpected(r.error());
            v = *r ? Tri::yes : Tri::no;
        }
        if (v == Tri::yes) {
            out.positions.push_back(i);
            if (plan.has_modseq) out.modseqs.push_back(info != nullptr ? info->modseq : 0);
        }
        // Reading messages is what costs: stop at the budget, after at least one.
        if (deep.bytes_read() >= budget.max_bytes ||
            (deep.bytes_read() > 0 &&
             std::chrono::steady_clock::now() - start >= budget.max_time)) {
            ++i;
            break;
        }
    }
    return i;
}

}  // namespace postern
