#include "imapd/search_text.h"

#include <algorithm>

#include "libproto/mime/mime_part.h"

namespace postern {

SearchTextScanner::SearchTextScanner(std::vector<std::string> needles)
    : needles_(std::move(needles)), hits_(needles_.size(), false), left_(needles_.size()) {
    for (size_t i = 0; i < needles_.size(); ++i) {
        if (needles_[i].empty()) {
            hits_[i] = true;
            --left_;
        }
        keep_ = std::max(keep_, needles_[i].empty() ? 0 : needles_[i].size() - 1);
    }
}

void SearchTextScanner::feed(std::string_view text) {
    if (left_ == 0 || text.empty()) return;
    buf_.assign(tail_);
    buf_.append(text);
    for (size_t i = 0; i < needles_.size(); ++i) {
        if (hits_[i]) continue;
        if (buf_.find(needles_[i]) != std::string::npos) {
            hits_[i] = true;
            --left_;
        }
    }
    size_t keep = std::min(keep_, buf_.size());
    tail_.assign(buf_, buf_.size() - keep, keep);
}

void SearchHeaderReader::feed(std::string_view bytes) {
    while (!bytes.empty() && !done_) {
        size_t nl = bytes.find('\n');
        std::string_view piece = bytes.substr(0, nl);
        if (!line_cut_) {
            size_t room = kMimeMaxFieldBytes + 2 - std::min(line_.size(), kMimeMaxFieldBytes + 2);
            if (piece.size() > room) {
                piece = piece.substr(0, room);
                line_cut_ = true;
            }
            line_.append(piece);
        }
        if (nl == std::string_view::npos) return;
        bytes.remove_prefix(nl + 1);
        std::string l = std::move(line_);
        line_.clear();
        line_cut_ = false;
        if (!l.empty() && l.back() == '\r') l.pop_back();
        line(l);
    }
}

void SearchHeaderReader::line(std::string_view l) {
    if (l.empty()) {
        flush_field();
        done_ = true;
        return;
    }
    if (l[0] == ' ' || l[0] == '\t') {  // a continuation: unfold (RFC 5322 2.2.3)
        if (!field_.empty() && field_.size() < kMimeMaxFieldBytes) {
            field_.append(l.substr(0, kMimeMaxFieldBytes - field_.size()));
        }
        return;
    }
    flush_field();
    field_.assign(l);
}

void SearchHeaderReader::flush_field() {
    if (field_.empty()) return;
    std::string f = std::move(field_);
    field_.clear();
    size_t colon = f.find(':');
    if (colon == std::string::npos) return;
    std::string_view name(f.data(), colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    std::string_view value(f);
    value.remove_prefix(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (!name.empty()) on_field_(name, value);
}

void SearchHeaderReader::finish() {
    if (done_) return;
    if (!line_.empty()) {
        std::string l = std::move(line_);
        line_.clear();
        if (!l.empty() && l.back() == '\r') l.pop_back();
        if (!l.empty()) line(l);
    }
    flush_field();
    done_ = true;
}

}  // namespace postern
