#include "libproto/imap/imap_sequence.h"

#include <algorithm>

#include "libproto/imap/imap_lexer.h"

namespace postern {
namespace {

uint32_t resolve(uint32_t v, uint32_t max) { return v == SequenceSet::star ? max : v; }

bool seq_number(ImapLexer& lx, uint32_t& out) {
    if (lx.eat('*')) {
        out = SequenceSet::star;
        return true;
    }
    return lx.nz_number(out);
}

}  // namespace

bool SequenceSet::contains(uint32_t n, uint32_t max) const {
    for (const SeqRange& r : ranges) {
        uint32_t a = resolve(r.first, max), b = resolve(r.last, max);
        if (a > b) std::swap(a, b);
        if (n >= a && n <= b) return true;
    }
    return false;
}

std::vector<SeqRange> SequenceSet::normalized(uint32_t max) const {
    std::vector<SeqRange> out;
    out.reserve(ranges.size());
    for (const SeqRange& r : ranges) {
        uint32_t a = resolve(r.first, max), b = resolve(r.last, max);
        if (a > b) std::swap(a, b);
        if (b == 0) continue;  // "*" of an empty mailbox
        out.push_back({std::max<uint32_t>(a, 1), b});
    }
    std::sort(out.begin(), out.end(),
              [](const SeqRange& x, const SeqRange& y) { return x.first < y.first; });
    size_t w = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        if (w > 0 && uint64_t(out[i].first) <= uint64_t(out[w - 1].last) + 1) {
            out[w - 1].last = std::max(out[w - 1].last, out[i].last);
        } else {
            out[w++] = out[i];
        }
    }
    out.resize(w);
    return out;
}

bool SequenceSet::exceeds(uint32_t max) const {
    return std::any_of(ranges.begin(), ranges.end(), [max](const SeqRange& r) {
        return resolve(r.first, max) > max || resolve(r.last, max) > max;
    });
}

bool parse_sequence_set(ImapLexer& lx, SequenceSet& out, size_t max_ranges, bool dollar_ok) {
    out.ranges.clear();
    out.saved = false;
    if (lx.eat('$')) {
        if (!dollar_ok) return lx.fail("$ is not allowed here");
        out.saved = true;
        return true;
    }
    for (;;) {
        SeqRange r;
        if (!seq_number(lx, r.first)) return lx.fail("bad sequence set");
        r.last = r.first;
        if (lx.eat(':') && !seq_number(lx, r.last)) return lx.fail("bad sequence set");
        if (out.ranges.size() >= max_ranges)
            return lx.fail_limit("too many ranges in a sequence set");
        out.ranges.push_back(r);
        if (!lx.eat(',')) return true;
    }
}

}  // namespace postern
