#include "imapd/fetch_job.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "imapd/imap_flags.h"
#include "libproto/imap/imap_bodystructure.h"
#include "libproto/imap/imap_envelope.h"
#include "libproto/imap/imap_section.h"

namespace postern {
namespace {

const MessageInfo* find_info(const std::vector<MessageInfo>& infos, uint32_t uid) {
    auto it = std::lower_bound(infos.begin(), infos.end(), uid,
                               [](const MessageInfo& i, uint32_t u) { return i.uid < u; });
    return it != infos.end() && it->uid == uid ? &*it : nullptr;
}

void literal_header(std::string& out, uint64_t len, bool literal8) {
    if (literal8) out.push_back('~');
    out.append("{").append(std::to_string(len)).append("}\r\n");
}

// [start, start + len) of `size` octets for a <start.len> partial (or all of them).
void clip(const std::optional<FetchPartial>& p, uint64_t size, uint64_t& start, uint64_t& len) {
    start = 0;
    len = size;
    if (!p) return;
    start = std::min<uint64_t>(p->offset, size);
    len = std::min<uint64_t>(p->count, size - start);
}

}  // namespace

void write_internal_date(std::string& out, int64_t unix_seconds) {
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
                     months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    out.push_back('"');
    out.append(buf, size_t(std::max(n, 0)));
    out.push_back('"');
}

FetchJob::FetchJob(std::shared_ptr<Mailbox> box, FetchPlan plan, std::vector<uint32_t> uids)
    : box_(std::move(box)), plan_(std::move(plan)), uids_(std::move(uids)) {
    if ((plan_.needs & (fetch_needs_mime | fetch_needs_body)) != 0) chunk_.resize(kChunk);
}

StoreResult<std::vector<uint32_t>> FetchJob::keep_changed_since(uint64_t modseq,
                                                                const SequenceSet& set) {
    auto ch = box_->changes_since(modseq);
    if (!ch) return std::unexpected(ch.error());
    std::vector<uint32_t> keep;
    std::set_intersection(uids_.begin(), uids_.end(), ch->changed.begin(), ch->changed.end(),
                          std::back_inserter(keep));
    uids_ = std::move(keep);
    uint32_t max = std::max(box_->uidnext(), 1u) - 1;
    std::vector<uint32_t> vanished;
    for (uint32_t u : ch->vanished)
        if (set.contains(u, max)) vanished.push_back(u);
    return vanished;
}

bool FetchJob::fail(StoreError e) {
    if (!error_) error_ = e;
    return false;
}

bool FetchJob::lost(StoreError e) {
    if (!message_gone(e)) return fail(e);
    skipped_ = true;
    return false;
}

bool FetchJob::produce(size_t budget) {
    bool done = produce_round(budget);
    pending_.flush(*box_);
    return done;
}

bool FetchJob::produce_round(size_t budget) {
    // Also bounded in time: parsing uncached messages reads far more than it writes, and
    // the pool thread is shared with every other session.
    auto deadline = std::chrono::steady_clock::now() + kRoundTime;
    while (out_.size() < budget) {
        if (!out_.empty() && std::chrono::steady_clock::now() > deadline) return false;
        if (msg_) {
            emit(budget);
            continue;
        }
        if (error_ || unknown_cte_ || pos_ >= uids_.size()) return true;
        if (pos_ >= batch_end_) {
            load_batch();
            continue;
        }
        start_message(uids_[pos_++]);
    }
    return false;
}

void FetchJob::load_batch() {
    batch_end_ = std::min(uids_.size(), pos_ + kBatch);
    std::span<const uint32_t> batch(uids_.data() + pos_, batch_end_ - pos_);
    seen_now_.clear();
    if (plan_.sets_seen) {
        std::vector<uint32_t> unseen;
        for (uint32_t u : batch) {
            const MessageEntry* e = box_->find(u);
            if (e != nullptr && (e->flags & flag_seen) == 0) unseen.push_back(u);
        }
        if (!unseen.empty()) {
            auto r = box_->store_flags(unseen, FlagChange{FlagOp::add, flag_seen, {}});
            if (!r) {
                fail(r.error());
                return;
            }
            // The handle's own changes show in its snapshot at once.
            for (uint32_t u : unseen) {
                const MessageEntry* e = box_->find(u);
                if (e != nullptr && (e->flags & flag_seen) != 0) seen_now_.push_back(u);
            }
        }
    }
    infos_.clear();
    if ((plan_.needs & fetch_needs_info) != 0) {
        auto r = box_->info(batch);
        if (!r) {
            fail(r.error());
            return;
        }
        infos_ = std::move(*r);
    }
}

void FetchJob::start_message(uint32_t uid) {
    auto snap = box_->messages();
    auto it = std::lower_bound(snap.begin(), snap.end(), uid,
                               [](const MessageEntry& m, uint32_t u) { return m.uid < u; });
    if (it == snap.end() || it->uid != uid) {  // cannot happen: the snapshot does not move
        skipped_ = true;
        return;
    }
    const MessageInfo* info = nullptr;
    if ((plan_.needs & fetch_needs_info) != 0) {
        info = find_info(infos_, uid);
        if (info == nullptr) {  // expunged meanwhile
            skipped_ = true;
            return;
        }
    }
    bool seen_now = std::binary_search(seen_now_.begin(), seen_now_.end(), uid);
    msg_.emplace(*box_, uid, chunk_, pending_);
    pieces_.clear();
    piece_ = 0;
    done_ = 0;
    // The items go straight to the output up to the first literal body, the rest is
    // queued; a message found gone while building takes its bytes back.
    size_t mark = out_.size();
    if (!build(*msg_, *it, uint32_t(it - snap.begin()) + 1, info, seen_now)) {
        out_.resize(mark);
        pieces_.clear();
    }
    if (pieces_.empty()) msg_.reset();
}

bool FetchJob::build(FetchMessage& m, const MessageEntry& e, uint32_t seq, const MessageInfo* info,
                     bool seen_now) {
    // Open what the message needs before writing anything of it: a message that is gone
    // is skipped whole.
    if ((plan_.needs & fetch_needs_body) != 0) {
        if (auto r = m.reader(); !r) return lost(r.error());
    }
    const MimeMessage* mime = nullptr;
    if ((plan_.needs & fetch_needs_mime) != 0) {
        auto r = m.mime();
        if (!r) return lost(r.error());
        mime = *r;
    }
    std::string& text = line_;
    text.clear();
    text.append("* ").append(std::to_string(seq)).append(" FETCH (");
    bool first = true;
    for (const FetchAttr& a : plan_.attrs) {
        if (!first) text.push_back(' ');
        first = false;
        switch (a.item) {
        case FetchItem::flags:
            text.append("FLAGS ");
            write_flag_list(text, e.flags, box_->keywords_of(e));
            break;
        case FetchItem::uid: text.append("UID ").append(std::to_string(e.uid)); break;
        case FetchItem::internaldate:
            text.append("INTERNALDATE ");
            write_internal_date(text, info->internal_date);
            break;
        case FetchItem::rfc822_size:
            text.append("RFC822.SIZE ").append(std::to_string(info->size));
            break;
        case FetchItem::modseq:
            text.append("MODSEQ (").append(std::to_string(info->modseq)).append(")");
            break;
        case FetchItem::envelope:
            text.append("ENVELOPE ");
            if (mime->root().envelope) {
                imap_write_envelope(text, *mime->root().envelope, plan_.utf8);
            } else {
                imap_write_empty_envelope(text);
            }
            break;
        case FetchItem::body:
        case FetchItem::bodystructure: {
            bool ext = a.item == FetchItem::bodystructure;
            text.append(ext ? "BODYSTRUCTURE " : "BODY ");
            imap_write_bodystructure(text, *mime, 0, ext, plan_.utf8);
            break;
        }
        case FetchItem::rfc822:
        case FetchItem::rfc822_header:
        case FetchItem::rfc822_text:
        case FetchItem::body_section:
            write_fetch_item_name(text, a);
            text.push_back(' ');
            if (!add_section(m, a, text)) return false;
            break;
        case FetchItem::binary:
        case FetchItem::binary_size:
            write_fetch_item_name(text, a);
            text.push_back(' ');
            if (!add_binary(m, a, text, a.item == FetchItem::binary_size)) return false;
            break;
        }
    }
    // RFC 3501 6.4.5: flags changed by the implicit \Seen go in the same response.
    if (seen_now && !plan_.has_flags) {
        text.append(first ? "FLAGS " : " FLAGS ");
        write_flag_list(text, e.flags, box_->keywords_of(e));
        if (plan_.seen_modseq && info != nullptr)
            text.append(" MODSEQ (").append(std::to_string(info->modseq)).append(")");
    }
    text.append(")\r\n");
    push_text(text);
    return true;
}

bool FetchJob::add_section(FetchMessage& m, const FetchAttr& a, std::string& text) {
    BodySection sec = section_of(a);
    ImapSectionRange r;
    if (sec.part.empty() && sec.text == SectionText::none) {
        r.size = (*m.reader())->size();
    } else {
        auto got = imap_resolve_section(**m.mime(), sec);
        if (!got) {  // no such part: NIL, as Dovecot answers
            text.append("NIL");
            return true;
        }
        r = *got;
    }
    uint64_t start = 0, len = 0;
    if (r.filter) {
        ImapHeaderFilter filter(sec.fields, r.filter_exclude);
        std::string kept;
        auto got =
            m.read_range(r.offset, r.size, [&](std::string_view b) { filter.feed(b, kept); });
        if (!got) return lost(got.error());
        filter.finish(kept);
        clip(a.partial, kept.size(), start, len);
        literal_header(text, len, false);
        text.append(kept, size_t(start), size_t(len));
        return true;
    }
    clip(a.partial, r.size, start, len);
    literal_header(text, len, false);
    if (len == 0) return true;
    push_text(text);
    Piece p;
    p.kind = Piece::Kind::raw;
    p.offset = r.offset + start;
    p.size = len;
    pieces_.push_back(std::move(p));
    return true;
}

bool FetchJob::decoded_size(FetchMessage& m, uint64_t offset, uint64_t size, MimeEncoding enc,
                            uint64_t& total, bool& nul) {
    total = 0;
    nul = false;
    auto dec = mime_make_decoder(enc);
    auto count = [&] {
        total += tmp_.size();
        nul = nul || tmp_.find('\0') != std::string::npos;
        tmp_.clear();
    };
    auto got = m.read_range(offset, size, [&](std::string_view b) {
        dec->feed(b, tmp_);
        count();
    });
    if (!got) return lost(got.error());
    dec->finish(tmp_);
    count();
    return true;
}

bool FetchJob::add_binary(FetchMessage& m, const FetchAttr& a, std::string& text, bool size_only) {
    uint64_t offset = 0, size = 0;
    MimeEncoding enc = MimeEncoding::kIdentity;
    if (a.section.part.empty()) {
        size = (*m.reader())->size();
    } else {
        BodySection sec;
        sec.part = a.section.part;
        const MimeMessage& mime = **m.mime();
        auto r = imap_resolve_section(mime, sec);
        if (!r) {
            text.append(size_only ? "0" : "NIL");
            return true;
        }
        offset = r->offset;
        size = r->size;
        const MimePart& p = mime.parts[r->part];
        // Multiparts and messages are sent as they are; leaves are decoded.
        if (p.children.empty()) enc = mime_encoding_of(p.fields.encoding.value_or("7bit"));
        if (enc == MimeEncoding::kUnknown) {
            unknown_cte_ = true;  // RFC 3516 4.2: NO [UNKNOWN-CTE]
            return false;
        }
    }
    uint64_t total = size;
    bool nul = false;
    if (!decoded_size(m, offset, size, enc, total, nul)) return false;
    if (size_only) {
        text.append(std::to_string(total));
        return true;
    }
    uint64_t start = 0, len = 0;
    clip(a.partial, total, start, len);
    // RFC 3516 4.3: literal8 only where the data needs it (NUL), so other clients can read it.
    literal_header(text, len, nul);
    if (len == 0) return true;
    push_text(text);
    Piece p;
    p.kind = Piece::Kind::decoded;
    p.offset = offset;
    p.size = size;
    p.skip = start;
    p.len = len;
    p.enc = enc;
    pieces_.push_back(std::move(p));
    return true;
}

void FetchJob::emit(size_t budget) {
    while (piece_ < pieces_.size() && out_.size() < budget) {
        Piece& p = pieces_[piece_];
        switch (p.kind) {
        case Piece::Kind::text:
            out_.append(p.text);
            ++piece_;
            continue;
        case Piece::Kind::raw: emit_raw(p, budget); break;
        case Piece::Kind::decoded: emit_decoded(p, budget); break;
        }
    }
    if (piece_ == pieces_.size()) {
        msg_.reset();
        pieces_.clear();
        if (error_) pos_ = uids_.size();  // a literal was padded: stop after this message
    }
}

void FetchJob::push_text(std::string& text) {
    if (pieces_.empty()) {
        out_.append(text);
    } else {
        Piece p;
        p.text = text;
        pieces_.push_back(std::move(p));
    }
    text.clear();
}

void FetchJob::pad(uint64_t n) { out_.append(size_t(n), ' '); }

void FetchJob::emit_raw(Piece& p, size_t budget) {
    while (done_ < p.size && out_.size() < budget) {
        size_t want = size_t(std::min<uint64_t>(kChunk, p.size - done_));
        size_t old = out_.size();
        out_.resize(old + want);
        auto reader = msg_->reader();
        auto n = reader ? (*reader)->read_at(p.offset + done_, std::span<char>(&out_[old], want))
                        : StoreResult<size_t>(std::unexpected(reader.error()));
        if (!n || *n == 0) {
            // The literal's length is promised: fill it and stop the FETCH.
            out_.resize(old);
            pad(p.size - done_);
            fail(n ? StoreError::corrupt : n.error());
            done_ = p.size;
            break;
        }
        out_.resize(old + *n);
        done_ += *n;
    }
    if (done_ >= p.size) {
        ++piece_;
        done_ = 0;
    }
}

void FetchJob::emit_decoded(Piece& p, size_t budget) {
    if (!decoder_) {
        decoder_ = mime_make_decoder(p.enc);
        emitted_ = 0;
        decoded_pos_ = 0;
    }
    // Writes what of tmp_ (decoded octets from decoded_pos_ on) falls in [skip, skip + len).
    auto take = [&] {
        uint64_t from = std::max(decoded_pos_, p.skip);
        uint64_t to = std::min(decoded_pos_ + tmp_.size(), p.skip + p.len);
        if (to > from) {
            out_.append(tmp_, size_t(from - decoded_pos_), size_t(to - from));
            emitted_ += to - from;
        }
        decoded_pos_ += tmp_.size();
        tmp_.clear();
    };
    bool failed = false;
    while (emitted_ < p.len && done_ < p.size && out_.size() < budget) {
        size_t want = size_t(std::min<uint64_t>(kChunk, p.size - done_));
        auto reader = msg_->reader();
        auto n = reader ? (*reader)->read_at(p.offset + done_, std::span<char>(chunk_.data(), want))
                        : StoreResult<size_t>(std::unexpected(reader.error()));
        if (!n || *n == 0) {
            fail(n ? StoreError::corrupt : n.error());
            failed = true;
            break;
        }
        done_ += *n;
        decoder_->feed(std::string_view(chunk_.data(), *n), tmp_);
        take();
    }
    if (!failed && emitted_ < p.len && done_ >= p.size) {
        decoder_->finish(tmp_);
        take();
        if (emitted_ < p.len) fail(StoreError::corrupt);  // decoded shorter than counted
        failed = emitted_ < p.len;
    }
    if (failed) {
        pad(p.len - emitted_);
        emitted_ = p.len;
    }
    if (emitted_ >= p.len) {
        decoder_.reset();
        ++piece_;
        done_ = 0;
    }
}

}  // namespace postern
