#include "libproto/mime/mime_header_collector.h"

#include <algorithm>

#include "libproto/core/ascii.h"
#include "libproto/mime/mime_header_fields.h"

namespace postern::mime_detail {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string trimmed(std::string s) {
    size_t b = 0;
    while (b < s.size() && (is_wsp(s[b]) || s[b] == '\r')) ++b;
    size_t e = s.size();
    while (e > b && (is_wsp(s[e - 1]) || s[e - 1] == '\r')) --e;
    return s.substr(b, e - b);
}

}  // namespace

void HeaderCollector::reset(bool want_envelope) {
    for (auto& v : values_) v.reset();
    current_ = kNone;
    kept_ = 0;
    want_envelope_ = want_envelope;
}

HeaderCollector::Field HeaderCollector::field_of(std::string_view n) {
    struct Name {
        std::string_view name;
        Field field;
    };
    static constexpr Name kNames[] = {
        {"content-type", kContentType},
        {"content-transfer-encoding", kEncoding},
        {"content-id", kId},
        {"content-description", kDescription},
        {"content-disposition", kDisposition},
        {"content-language", kLanguage},
        {"content-location", kLocation},
        {"content-md5", kMd5},
        {"date", kDate},
        {"subject", kSubject},
        {"from", kFrom},
        {"sender", kSender},
        {"reply-to", kReplyTo},
        {"to", kTo},
        {"cc", kCc},
        {"bcc", kBcc},
        {"in-reply-to", kInReplyTo},
        {"message-id", kMessageId},
    };
    for (const Name& e : kNames) {
        if (iequals(n, e.name)) return e.field;
    }
    return kNone;
}

void HeaderCollector::append(std::string_view text) {
    std::string& v = *values_[current_];
    size_t room = kMimeMaxFieldBytes - std::min(kMimeMaxFieldBytes, v.size());
    room = std::min(room, kMimeMaxPartHeaderKept - std::min(kMimeMaxPartHeaderKept, kept_));
    size_t n = std::min(room, text.size());
    v.append(text.substr(0, n));
    kept_ += n;
}

void HeaderCollector::line(std::string_view text) {
    if (!text.empty() && is_wsp(text[0])) {
        if (current_ != kNone) append(text);  // a folded continuation: unfolding drops the CRLF
        return;
    }
    current_ = kNone;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) return;  // not a field; ignored
    std::string_view name = text.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obs "Subject :"
    Field f = field_of(name);
    if (f == kNone || values_[f]) return;  // the first occurrence wins
    if (f >= kDate && !want_envelope_) return;
    if (kept_ >= kMimeMaxPartHeaderKept) return;
    values_[f].emplace();
    current_ = f;
    append(text.substr(colon + 1));
}

void HeaderCollector::finish(MimeFields& f, std::optional<MimeEnvelopeFields>& env) {
    auto take = [&](Field k) -> std::optional<std::string> {
        if (!values_[k]) return std::nullopt;
        return trimmed(std::move(*values_[k]));
    };
    if (auto v = take(kContentType)) mime_parse_content_type(*v, f);
    if (auto v = take(kEncoding)) {
        std::string enc = mime_parse_token_field(*v);
        if (!enc.empty()) f.encoding = std::move(enc);
    }
    f.id = take(kId);
    f.description = take(kDescription);
    if (auto v = take(kDisposition)) mime_parse_content_disposition(*v, f);
    if (auto v = take(kLanguage)) f.language = mime_parse_content_language(*v);
    f.location = take(kLocation);
    f.md5 = take(kMd5);
    if (want_envelope_) {
        MimeEnvelopeFields& e = env.emplace();
        e.date = take(kDate);
        e.subject = take(kSubject);
        e.from = take(kFrom);
        e.sender = take(kSender);
        e.reply_to = take(kReplyTo);
        e.to = take(kTo);
        e.cc = take(kCc);
        e.bcc = take(kBcc);
        e.in_reply_to = take(kInReplyTo);
        e.message_id = take(kMessageId);
    }
    reset(false);
}

}  // namespace postern::mime_detail
