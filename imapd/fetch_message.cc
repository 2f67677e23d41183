#include "imapd/fetch_message.h"

namespace postern {

StoreResult<MessageReader*> FetchMessage::reader() {
    if (!reader_) {
        auto r = box_.open_message(uid_);
        if (!r) return std::unexpected(r.error());
        reader_ = std::move(*r);
    }
    return reader_.get();
}

StoreResult<const MimeMessage*> FetchMessage::mime() {
    if (mime_) return &*mime_;
    auto m = load_message_structure(box_, uid_, reader_, chunk_, pending_);
    if (!m) return std::unexpected(m.error());
    mime_ = std::move(*m);
    return &*mime_;
}

}  // namespace postern
