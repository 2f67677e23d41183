#include "libproto/dkim/dkim_signer.h"

#include <array>

#include "libproto/core/ascii.h"
#include "libproto/core/base64.h"
#include "libproto/dkim/dkim_canon.h"
#include "libproto/mime/mime_address.h"

namespace postern {
namespace {

// What is signed when present: what identifies and describes the message to its reader,
// and what a list or a forwarder must not change (RFC 6376 section 5.4.1). Trace fields
// (Received, Return-Path) and fields others add on the way are left out.
constexpr std::array kSignedNames = {
    "from",
    "sender",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "to",
    "cc",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "content-disposition",
    "content-language",
    "resent-date",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-message-id",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
    "autocrypt",
    "openpgp",
};

constexpr size_t kFoldAt = 78;

bool signed_name(std::string_view lower) {
    for (std::string_view n : kSignedNames)
        if (n == lower) return true;
    return false;
}

// Appends to a header field, starting a continuation line ("\r\n\t") when a piece would
// run past kFoldAt.
class Folder {
public:
    explicit Folder(std::string& out) : out_(out) {
        size_t nl = out_.rfind('\n');
        column_ = nl == std::string::npos ? out_.size() : out_.size() - nl - 1;
    }
    // `piece` goes on this line if it fits, else on a new one; `space` is written before it
    // when it stays on the line.
    void add(std::string_view piece, bool space) {
        if (column_ + (space ? 1 : 0) + piece.size() > kFoldAt && column_ > 1) {
            out_ += "\r\n\t";
            column_ = 1;
        } else if (space) {
            out_ += ' ';
            ++column_;
        }
        out_ += piece;
        column_ += piece.size();
    }
    void newline() {
        out_ += "\r\n\t";
        column_ = 1;
    }

private:
    std::string& out_;
    size_t column_;
};

}  // namespace

std::vector<std::string> dkim_signed_names(const std::vector<HeaderField>& fields) {
    std::vector<std::string> names;
    for (const auto& f : fields) {
        std::string lower = ascii_lowered(f.name);
        if (signed_name(lower)) names.push_back(std::move(lower));
    }
    names.emplace_back("from");  // oversigned: one more From: than there is
    return names;
}

std::string dkim_signed_data(const std::vector<HeaderField>& fields,
                             const std::vector<std::string>& names,
                             std::string_view signature_value) {
    std::string data;
    for (const HeaderField* f : select_fields(fields, names))
        append_relaxed_header(f->name, f->value, data);
    append_relaxed_header("DKIM-Signature", signature_value, data);
    data.resize(data.size() - 2);  // no CRLF after the signature field itself
    return data;
}

std::expected<std::string, std::string> dkim_signature_field(const DkimKey& key,
                                                             const DkimSignParams& params,
                                                             const std::vector<HeaderField>& fields,
                                                             std::string_view body_hash) {
    std::vector<std::string> names = dkim_signed_names(fields);
    std::string field = "DKIM-Signature:";
    Folder fold(field);
    fold.add("v=1;", true);
    fold.add("a=" + std::string(key.algorithm()) + ";", true);
    fold.add("c=relaxed/relaxed;", true);
    fold.add("d=" + params.domain + ";", true);
    fold.add("s=" + params.selector + ";", true);
    fold.add("t=" + std::to_string(params.timestamp) + ";", true);
    // h= may fold after a colon (RFC 6376 section 3.5: FWS around ":" in sig-h-tag).
    for (size_t i = 0; i < names.size(); ++i) {
        std::string piece = (i == 0 ? "h=" : "") + names[i] + (i + 1 < names.size() ? ":" : ";");
        fold.add(piece, i == 0);
    }
    fold.add("bh=" + std::string(body_hash) + ";", true);
    fold.newline();
    field += "b=";
    // Signed with b= empty: what a verifier rebuilds after removing the b= value.
    std::string_view value = std::string_view(field).substr(sizeof("DKIM-Signature:") - 1);
    auto sig = key.sign(dkim_signed_data(fields, names, value));
    if (!sig) return std::unexpected(sig.error());
    std::string b = base64_encode(*sig);
    constexpr size_t kFirst = kFoldAt - 3;  // after "\tb="
    constexpr size_t kRest = kFoldAt - 1;   // after "\t"
    field += b.substr(0, kFirst);
    for (size_t at = kFirst; at < b.size(); at += kRest) {
        field += "\r\n\t";
        field += b.substr(at, kRest);
    }
    field += "\r\n";
    return field;
}

std::optional<std::string> dkim_from_domain(const std::vector<HeaderField>& fields) {
    for (const auto& f : fields) {
        if (!iequals(f.name, "from")) continue;
        // The address parser wants the unfolded value.
        std::string unfolded;
        for (size_t i = 0; i < f.value.size(); ++i) {
            if (f.value[i] == '\r' && i + 1 < f.value.size() && f.value[i + 1] == '\n') {
                ++i;
                continue;
            }
            unfolded += f.value[i];
        }
        for (const auto& a : mime_parse_address_list(unfolded)) {
            if (a.is_group_start() || a.is_group_end()) continue;
            if (!a.host || a.host->empty() || *a.host == kMimeMissingDomain) return std::nullopt;
            return ascii_lowered(*a.host);
        }
        return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace postern
