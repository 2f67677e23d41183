// The non-virtual helpers of the store interface, the same for every backend.
#include "libmailstore/store.h"

namespace postern {

StoreResult<std::string> read_all(MessageReader& r) {
    std::string out(r.size(), '\0');
    size_t got = 0;
    while (got < out.size()) {
        auto n = r.read_at(got, std::span(out.data() + got, out.size() - got));
        if (!n) return std::unexpected(n.error());
        if (*n == 0) break;  // shorter than announced
        got += *n;
    }
    out.resize(got);
    return out;
}

StoreResult<MessageInfo> Mailbox::info(uint32_t uid) {
    if (find(uid) == nullptr) return std::unexpected(StoreError::not_found);
    auto got = info(std::span(&uid, 1));
    if (!got) return std::unexpected(got.error());
    if (got->empty()) return std::unexpected(StoreError::expunged);
    return std::move(got->front());
}

StoreResult<std::string> Mailbox::read_message(uint32_t uid) {
    auto r = open_message(uid);
    if (!r) return std::unexpected(r.error());
    return read_all(**r);
}

StoreResult<void> Mailbox::cache_put_many(uint32_t version, std::span<const CacheSlot> slots) {
    for (const CacheSlot& c : slots) {
        auto r = cache_put(c.uid, version, c.data);
        if (!r && r.error() != StoreError::not_found && r.error() != StoreError::expunged) return r;
    }
    return {};
}

StoreResult<std::vector<std::string>> MailStore::list_folders(std::string_view user) {
    auto f = folders(user);
    if (!f) return std::unexpected(f.error());
    std::vector<std::string> names;
    names.reserve(f->size());
    for (auto& e : *f) names.push_back(std::move(e.name));
    return names;
}

}  // namespace postern
