#include "libproto/mime/mime_cache.h"

#include <array>

namespace postern {

namespace {

enum Flag : uint32_t {
    kOpaque = 1u << 0,
    kHasContentType = 1u << 1,
    kHasEnvelope = 1u << 2,
    kHasEncoding = 1u << 3,
    kHasId = 1u << 4,
    kHasDescription = 1u << 5,
    kHasMd5 = 1u << 6,
    kHasLocation = 1u << 7,
    kHasDisposition = 1u << 8,
    kAllFlags = (1u << 9) - 1,
};

constexpr uint64_t kMaxOffset = uint64_t{1} << 48;  // far beyond any message

class Writer {
public:
    void u(uint64_t v) {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
    }
    void s(std::string_view v) {
        u(v.size());
        out_.append(v);
    }
    void opt(const std::optional<std::string>& v) {
        u(v ? 1 : 0);
        if (v) s(*v);
    }
    void params(const std::vector<MimeParam>& ps) {
        u(ps.size());
        for (const MimeParam& p : ps) {
            s(p.name);
            s(p.value);
        }
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

class Reader {
public:
    explicit Reader(std::string_view b) : b_(b) {}
    bool ok() const { return err_ == MimeCacheError{} && !failed_; }
    MimeCacheError error() const { return err_; }
    bool at_end() const { return pos_ == b_.size(); }

    uint64_t u() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= b_.size()) return fail(MimeCacheError::truncated), 0;
            auto c = static_cast<unsigned char>(b_[pos_++]);
            v |= uint64_t{c & 0x7Fu} << shift;
            if (!(c & 0x80)) return v;
        }
        return fail(MimeCacheError::invalid), 0;
    }
    uint64_t bounded(uint64_t max) {
        uint64_t v = u();
        if (v > max) fail(MimeCacheError::invalid);
        return ok() ? v : 0;
    }
    std::string s() {
        uint64_t n = bounded(kMimeMaxFieldBytes);
        if (!ok()) return {};
        if (n > b_.size() - pos_) return fail(MimeCacheError::truncated), std::string();
        std::string v(b_.substr(pos_, n));
        pos_ += n;
        return v;
    }
    std::optional<std::string> opt() {
        uint64_t present = bounded(1);
        if (!ok() || !present) return std::nullopt;
        std::string v = s();
        if (!ok()) return std::nullopt;
        return v;
    }
    std::vector<MimeParam> params() {
        uint64_t n = bounded(kMimeMaxParams);
        std::vector<MimeParam> ps;
        for (uint64_t i = 0; i < n && ok(); ++i) {
            MimeParam p;
            p.name = s();
            p.value = s();
            ps.push_back(std::move(p));
        }
        return ps;
    }
    void fail(MimeCacheError e) {
        if (!failed_) err_ = e;
        failed_ = true;
    }

private:
    std::string_view b_;
    size_t pos_ = 0;
    MimeCacheError err_{};
    bool failed_ = false;
};

std::array<std::optional<std::string> MimeEnvelopeFields::*, 10> envelope_members() {
    return {&MimeEnvelopeFields::date,        &MimeEnvelopeFields::subject,
            &MimeEnvelopeFields::from,        &MimeEnvelopeFields::sender,
            &MimeEnvelopeFields::reply_to,    &MimeEnvelopeFields::to,
            &MimeEnvelopeFields::cc,          &MimeEnvelopeFields::bcc,
            &MimeEnvelopeFields::in_reply_to, &MimeEnvelopeFields::message_id};
}

uint32_t flags_of(const MimePart& p) {
    const MimeFields& f = p.fields;
    uint32_t fl = 0;
    if (p.opaque) fl |= kOpaque;
    if (f.has_content_type) fl |= kHasContentType;
    if (p.envelope) fl |= kHasEnvelope;
    if (f.encoding) fl |= kHasEncoding;
    if (f.id) fl |= kHasId;
    if (f.description) fl |= kHasDescription;
    if (f.md5) fl |= kHasMd5;
    if (f.location) fl |= kHasLocation;
    if (f.disposition) fl |= kHasDisposition;
    return fl;
}

// The tree rules the parser keeps: checked against part i, whose parent is complete.
bool shape_ok(const MimeMessage& m, uint32_t i) {
    const MimePart& p = m.parts[i];
    if (p.body_start != p.header_start + p.header_size) return false;
    if (p.end() > m.size || p.body_lines > p.body_size) return false;
    if (p.header_bare_lf > p.header_size || p.body_bare_lf > p.body_lines) return false;
    if (i == 0) return p.header_start == 0 && p.depth == 0 && p.parent == 0;
    const MimePart& parent = m.parts[p.parent];
    if (p.depth != parent.depth + 1 || p.depth > kMimeMaxDepth) return false;
    if (parent.opaque) return false;
    if (!parent.is_multipart() && !parent.is_message()) return false;
    if (parent.is_message() && !parent.children.empty()) return false;  // one message
    if (p.header_start < parent.body_start || p.end() > parent.end()) return false;
    if (!parent.children.empty() && p.header_start < m.parts[parent.children.back()].end())
        return false;
    return true;
}

}  // namespace

std::string mime_cache_encode(const MimeMessage& msg) {
    Writer w;
    w.u('P');
    w.u('M');
    w.u(kMimeCacheVersion);
    w.u(msg.size);
    w.u(msg.parts.size());
    for (const MimePart& p : msg.parts) {
        const MimeFields& f = p.fields;
        uint32_t fl = flags_of(p);
        w.u(fl);
        w.u(p.parent);
        w.u(p.header_start);
        w.u(p.header_size);
        w.u(p.body_size);
        w.u(p.body_lines);
        w.u(p.header_bare_lf);
        w.u(p.body_bare_lf);
        w.s(f.type);
        w.s(f.subtype);
        w.params(f.params);
        for (const auto* o :
             {&f.encoding, &f.id, &f.description, &f.md5, &f.location, &f.disposition}) {
            if (*o) w.s(**o);
        }
        w.params(f.disposition_params);
        w.u(f.language.size());
        for (const std::string& l : f.language) w.s(l);
        if (p.envelope) {
            for (auto mem : envelope_members()) w.opt((*p.envelope).*mem);
        }
    }
    return w.take();
}

std::expected<MimeMessage, MimeCacheError> mime_cache_decode(std::string_view bytes) {
    if (bytes.size() < 3 || bytes[0] != 'P' || bytes[1] != 'M')
        return std::unexpected(MimeCacheError::bad_magic);
    Reader r(bytes.substr(2));
    if (r.u() != kMimeCacheVersion || !r.ok()) return std::unexpected(MimeCacheError::bad_version);
    MimeMessage m;
    m.size = r.bounded(kMaxOffset);
    uint64_t count = r.bounded(kMimeMaxParts);
    if (r.ok() && count == 0) r.fail(MimeCacheError::invalid);
    for (uint64_t i = 0; i < count && r.ok(); ++i) {
        MimePart p;
        auto fl = static_cast<uint32_t>(r.bounded(kAllFlags));
        p.opaque = fl & kOpaque;
        p.parent = static_cast<uint32_t>(r.bounded(i == 0 ? 0 : i - 1));
        p.header_start = r.bounded(kMaxOffset);
        p.header_size = r.bounded(kMaxOffset);
        p.body_start = p.header_start + p.header_size;
        p.body_size = r.bounded(kMaxOffset);
        p.body_lines = r.bounded(kMaxOffset);
        p.header_bare_lf = r.bounded(kMaxOffset);
        p.body_bare_lf = r.bounded(kMaxOffset);
        MimeFields& f = p.fields;
        f.type = r.s();
        f.subtype = r.s();
        f.params = r.params();
        f.has_content_type = fl & kHasContentType;
        std::pair<uint32_t, std::optional<std::string>*> opts[] = {
            {kHasEncoding, &f.encoding},       {kHasId, &f.id},
            {kHasDescription, &f.description}, {kHasMd5, &f.md5},
            {kHasLocation, &f.location},       {kHasDisposition, &f.disposition}};
        for (auto& [bit, dst] : opts) {
            if (fl & bit) *dst = r.s();
        }
        f.disposition_params = r.params();
        uint64_t langs = r.bounded(kMimeMaxParams);
        for (uint64_t k = 0; k < langs && r.ok(); ++k) f.language.push_back(r.s());
        if (fl & kHasEnvelope) {
            MimeEnvelopeFields& e = p.envelope.emplace();
            for (auto mem : envelope_members()) e.*mem = r.opt();
        }
        if (!r.ok()) break;
        if (f.type.empty() || f.subtype.empty()) {
            r.fail(MimeCacheError::invalid);
            break;
        }
        p.depth = i == 0 ? 0 : m.parts[p.parent].depth + 1;
        m.parts.push_back(std::move(p));
        auto idx = static_cast<uint32_t>(i);
        if (!shape_ok(m, idx)) {
            r.fail(MimeCacheError::invalid);
            break;
        }
        if (idx > 0) m.parts[m.parts[idx].parent].children.push_back(idx);
    }
    if (r.ok() && !r.at_end()) r.fail(MimeCacheError::invalid);
    if (!r.ok()) return std::unexpected(r.error());
    return m;
}

}  // namespace postern
