#pragma once
// Splits an IMAP server's byte stream into logical responses (RFC 9051 section 4.3): a line
// up to CRLF, where a line ending in a literal marker {n} or {n+} continues after n octets.
// The literal octets are skipped by their size and not kept; the logical line keeps its
// markers, so "* 5 FETCH (BODY[] {4123}" + 4123 octets + ")" is reported as
// "* 5 FETCH (BODY[] {4123})". Pure: no socket, no clock.

#include <cstdint>
#include <string>
#include <string_view>

namespace imap_load {

class ResponseScanner {
public:
    // A logical line longer than this (literal contents not counted) is a protocol error.
    static constexpr size_t max_line = 16u << 20;

    // Feeds bytes; calls on_line(std::string_view) for each complete logical line (CRLF
    // removed). Returns false, and stops, on a line over max_line or when on_line returns
    // false.
    template <class OnLine>
    bool feed(std::string_view data, OnLine&& on_line) {
        while (!data.empty()) {
            if (skip_ > 0) {
                size_t n = data.size() < skip_ ? data.size() : static_cast<size_t>(skip_);
                skip_ -= n;
                literal_bytes_ += n;
                data.remove_prefix(n);
                continue;
            }
            size_t nl = data.find('\n');
            if (nl == std::string_view::npos) {
                line_.append(data);
                return line_.size() <= max_line;
            }
            line_.append(data.substr(0, nl));
            data.remove_prefix(nl + 1);
            if (!line_.empty() && line_.back() == '\r') line_.pop_back();
            if (line_.size() > max_line) return false;
            if (uint64_t n = 0; literal_at_end(line_, n)) {
                skip_ = n;
                continue;
            }
            bool go_on = on_line(std::string_view(line_));
            line_.clear();
            if (!go_on) return false;
        }
        return true;
    }

    // Octets of literal contents skipped so far (a counter the caller may reset).
    uint64_t literal_bytes() const { return literal_bytes_; }
    void reset_literal_bytes() { literal_bytes_ = 0; }
    void clear() {
        line_.clear();
        skip_ = 0;
    }

    // True when `line` ends with {digits} or {digits+}; stores the size in n.
    static bool literal_at_end(std::string_view line, uint64_t& n);

private:
    std::string line_;
    uint64_t skip_ = 0;
    uint64_t literal_bytes_ = 0;
};

}  // namespace imap_load
