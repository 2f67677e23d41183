#include "imapd/sort_keys.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "imapd/search_fold.h"
#include "imapd/search_text.h"
#include "libproto/core/ascii.h"
#include "libproto/imap/imap_base_subject.h"
#include "libproto/mime/mime_address.h"
#include "libproto/mime/mime_date.h"
#include "libproto/mime/mime_encoded_word.h"

namespace postern {
namespace {

bool gone(StoreError e) { return e == StoreError::expunged || e == StoreError::not_found; }

const MimeAddress* first_address(const std::vector<MimeAddress>& list) {
    for (const MimeAddress& a : list)
        if (a.mailbox && a.host) return &a;  // not a group marker
    return nullptr;
}

// RFC 5256: the addr-mailbox of the first address.
std::string mailbox_of(const std::optional<std::string>& field) {
    if (!field) return {};
    auto list = mime_parse_address_list(*field);
    const MimeAddress* a = first_address(list);
    return a ? search_fold(*a->mailbox) : std::string();
}

// RFC 5957: the display name of the first address, else its addr-spec.
std::string display_of(const std::optional<std::string>& field) {
    if (!field) return {};
    auto list = mime_parse_address_list(*field);
    const MimeAddress* a = first_address(list);
    if (a == nullptr) return {};
    if (a->name && !a->name->empty()) return search_fold(mime_decode_encoded_words(*a->name));
    return search_fold(*a->mailbox + "@" + *a->host);
}

int compare(const SortValues& a, const SortValues& b, SortKey k) {
    auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : y < x ? 1 : 0; };
    switch (k) {
    case SortKey::arrival: return cmp(a.arrival, b.arrival);
    case SortKey::cc: return cmp(a.cc, b.cc);
    case SortKey::date: return cmp(a.date, b.date);
    case SortKey::from: return cmp(a.from, b.from);
    case SortKey::size: return cmp(a.size, b.size);
    case SortKey::subject: return cmp(a.subject, b.subject);
    case SortKey::to: return cmp(a.to, b.to);
    case SortKey::displayfrom: return cmp(a.display_from, b.display_from);
    case SortKey::displayto: return cmp(a.display_to, b.display_to);
    }
    return 0;
}

// The References field from the root header (THREAD=REFERENCES; it is not cached).
StoreResult<void> read_references(MessageReader& r, const MimeMessage& m, std::vector<char>& buf,
                                  std::string& out) {
    SearchHeaderReader hr([&](std::string_view name, std::string_view value) {
        if (out.empty() && iequals(name, "references")) out.assign(value);
    });
    for (uint64_t at = 0, end = m.root().header_size; at < end && !hr.done();) {
        auto n = r.read_at(
            at, std::span<char>(buf.data(), size_t(std::min<uint64_t>(buf.size(), end - at))));
        if (!n) return std::unexpected(n.error());
        if (*n == 0) break;
        hr.feed(std::string_view(buf.data(), *n));
        at += *n;
    }
    hr.finish();
    return {};
}

}  // namespace

uint8_t sort_needs(std::span<const SortCriterion> criteria) {
    uint8_t n = 0;
    for (const SortCriterion& c : criteria) {
        switch (c.key) {
        case SortKey::arrival:
        case SortKey::size: n |= sort_needs_info; break;
        case SortKey::date: n |= sort_needs_info | sort_needs_mime; break;
        default: n |= sort_needs_mime; break;
        }
    }
    return n;
}

void sort_values_from_mime(const MimeMessage& m, SortValues& v) {
    const auto& env = m.root().envelope;
    if (!env) return;
    v.cc = mailbox_of(env->cc);
    v.from = mailbox_of(env->from);
    v.to = mailbox_of(env->to);
    v.display_from = display_of(env->from);
    v.display_to = display_of(env->to);
    if (env->subject) {
        BaseSubject b = imap_base_subject(*env->subject);
        v.subject = search_fold(b.text);
        v.reply = b.reply_or_forward;
    }
    if (env->date) {
        if (auto d = mime_parse_date(*env->date)) v.date = d->to_unix();
    }
    if (env->message_id) v.message_id = *env->message_id;
    if (env->in_reply_to) v.in_reply_to = *env->in_reply_to;
}

StoreResult<size_t> sort_values_batch(Mailbox& box, uint8_t needs,
                                      std::span<const uint32_t> positions, size_t from,
                                      const SearchBudget& budget, std::vector<SortValues>& out) {
    auto start = std::chrono::steady_clock::now();
    std::span<const MessageEntry> snap = box.messages();
    size_t end = std::min(positions.size(), from + budget.max_messages);
    std::vector<MessageInfo> infos;
    if (needs & sort_needs_info) {
        std::vector<uint32_t> uids;
        for (size_t i = from; i < end; ++i) uids.push_back(snap[positions[i]].uid);
        auto r = box.info(uids);
        if (!r) return std::unexpected(r.error());
        infos = std::move(*r);
    }
    std::vector<char> buf(64 * 1024);
    // The structures parsed in this batch go to the cache as one store write at its end.
    CacheSlotBatch pending;
    struct FlushAtEnd {
        CacheSlotBatch& pending;
        Mailbox& box;
        ~FlushAtEnd() { pending.flush(box); }
    } flush_at_end{pending, box};
    size_t k = 0;
    size_t i = from;
    for (; i < end; ++i) {
        SortValues v;
        v.position = positions[i];
        uint32_t uid = snap[v.position].uid;
        if (needs & sort_needs_info) {
            while (k < infos.size() && infos[k].uid < uid) ++k;
            if (k == infos.size() || infos[k].uid != uid) continue;  // expunged
            v.arrival = infos[k].internal_date;
            v.size = infos[k].size;
            v.date = v.arrival;
        }
        if (needs & sort_needs_mime) {
            std::unique_ptr<MessageReader> reader;
            auto m = load_message_structure(box, uid, reader, buf, pending);
            if (!m) {
                if (gone(m.error())) continue;
                return std::unexpected(m.error());
            }
            sort_values_from_mime(*m, v);
            if (needs & sort_needs_references) {
                if (!reader) {
                    auto r = box.open_message(uid);
                    if (!r) {
                        if (gone(r.error())) continue;
                        return std::unexpected(r.error());
                    }
                    reader = std::move(*r);
                }
                auto rr = read_references(*reader, *m, buf, v.references);
                if (!rr && !gone(rr.error())) return std::unexpected(rr.error());
            }
            if (v.date == 0) v.date = v.arrival;
        }
        out.push_back(std::move(v));
        if (std::chrono::steady_clock::now() - start >= budget.max_time) {
            ++i;
            break;
        }
    }
    return i;
}

void sort_by(std::vector<SortValues>& v, std::span<const SortCriterion> criteria) {
    std::sort(v.begin(), v.end(), [&](const SortValues& a, const SortValues& b) {
        for (const SortCriterion& c : criteria) {
            int r = compare(a, b, c.key);
            if (r != 0) return c.reverse ? r > 0 : r < 0;
        }
        return a.position < b.position;
    });
}

}  // namespace postern
