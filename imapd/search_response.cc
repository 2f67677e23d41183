#include "imapd/search_response.h"

#include "libproto/imap/imap_search.h"

namespace postern {

void SearchNumberWriter::add(uint32_t n) {
    if (!as_set_) {
        out_.push_back(' ');
        out_.append(std::to_string(n));
        return;
    }
    if (any_ && n == last_ + 1) {
        last_ = n;
        return;
    }
    finish();
    if (any_) out_.push_back(',');
    out_.append(std::to_string(n));
    first_ = last_ = n;
    any_ = true;
}

void SearchNumberWriter::finish() {
    if (as_set_ && any_ && last_ != first_) {
        out_.push_back(':');
        out_.append(std::to_string(last_));
        first_ = last_;
    }
}

void write_esearch_head(std::string& out, const EsearchShape& s,
                        std::span<const uint32_t> numbers) {
    out.append("* ESEARCH (TAG \"").append(s.tag).append("\")");
    if (s.uid) out.append(" UID");
    if (!numbers.empty()) {
        if (s.return_opts & search_return_min)
            out.append(" MIN ").append(std::to_string(numbers.front()));
        if (s.return_opts & search_return_max)
            out.append(" MAX ").append(std::to_string(numbers.back()));
    }
    if (s.return_opts & search_return_count)
        out.append(" COUNT ").append(std::to_string(numbers.size()));
    if ((s.return_opts & search_return_all) && !numbers.empty()) out.append(" ALL ");
}

bool esearch_answers(uint8_t opts) { return (opts & ~search_return_save) != 0; }

std::vector<size_t> modseq_scope(uint8_t opts, bool esearch, size_t matches) {
    std::vector<size_t> out;
    if (matches == 0) return out;
    bool min_max_only = esearch && (opts & (search_return_all | search_return_count)) == 0 &&
                        (opts & (search_return_min | search_return_max)) != 0;
    if (!min_max_only) {
        out.resize(matches);
        for (size_t i = 0; i < matches; ++i) out[i] = i;
        return out;
    }
    if (opts & search_return_min) out.push_back(0);
    if ((opts & search_return_max) && (out.empty() || matches - 1 != 0)) out.push_back(matches - 1);
    return out;
}

std::vector<uint32_t> saved_result(uint8_t opts, std::span<const uint32_t> uids) {
    bool min_max_only = (opts & (search_return_all | search_return_count)) == 0 &&
                        (opts & (search_return_min | search_return_max)) != 0;
    if (!min_max_only || uids.empty()) return {uids.begin(), uids.end()};
    std::vector<uint32_t> out;
    if (opts & search_return_min) out.push_back(uids.front());
    if ((opts & search_return_max) && (out.empty() || out.back() != uids.back()))
        out.push_back(uids.back());
    return out;
}

}  // namespace postern
