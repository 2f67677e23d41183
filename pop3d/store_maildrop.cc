#include "pop3d/store_maildrop.h"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

#include "libmailstore/password.h"
#include "libproto/core/secret.h"

namespace postern {
namespace {

// Store errors as the POP3 engine sees them (message context: gone = vanished).
MaildropError to_maildrop(StoreError e) {
    switch (e) {
    case StoreError::in_use: return MaildropError::in_use;
    case StoreError::expunged:
    case StoreError::not_found: return MaildropError::vanished;
    case StoreError::invalid:
    case StoreError::corrupt: return MaildropError::permanent;
    default: return MaildropError::temporary;
    }
}

// The engine's stream over the store's reader.
class ReaderStream : public MessageStream {
public:
    ReaderStream(std::unique_ptr<MessageReader> r, uint64_t size)
        : reader_(std::move(r)), size_(size) {}
    std::expected<size_t, MaildropError> read(std::span<char> buf) override {
        // Never more than the size LIST announced: RETR octets == LIST size.
        uint64_t left = size_ - offset_;
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
        if (want == 0) return 0;
        auto n = reader_->read_at(offset_, buf.first(want));
        if (!n) return std::unexpected(MaildropError::temporary);
        offset_ += *n;
        return *n;
    }

private:
    std::unique_ptr<MessageReader> reader_;
    uint64_t size_;
    uint64_t offset_ = 0;
};

class StoreMaildrop : public Maildrop {
public:
    StoreMaildrop(std::unique_ptr<Mailbox> box, MaildropLock lock,
                  const std::vector<MessageInfo>& infos)
        : box_(std::move(box)), lock_(std::move(lock)) {
        snapshot_.reserve(infos.size());
        seen_.reserve(infos.size());
        for (const auto& m : infos) {
            snapshot_.push_back({m.uid, m.size});
            seen_.push_back((m.flags & flag_seen) != 0);
        }
    }
    uint32_t uid_validity() const override { return box_->uidvalidity(); }
    const std::vector<MaildropMessage>& messages() const override { return snapshot_; }
    std::expected<std::unique_ptr<MessageStream>, MaildropError> open(uint32_t uid) override {
        auto f = box_->open_message(uid);
        if (!f) return std::unexpected(to_maildrop(f.error()));
        uint64_t size = (*f)->size();
        return std::make_unique<ReaderStream>(std::move(*f), size);
    }
    std::expected<void, MaildropError> mark_seen(uint32_t uid) override {
        // Only noted here; expunge() (the UPDATE at QUIT) commits them all at once, so a
        // session costs one index write for its \Seen flags, not one per first RETR. A lost
        // connection loses them (POP3 has no \Seen; nothing is deleted either). Already
        // \Seen in the snapshot: nothing to do. If IMAP cleared \Seen since the login the
        // flag stays clear until the next session's RETR, as for any snapshot.
        auto it = std::lower_bound(snapshot_.begin(), snapshot_.end(), uid,
                                   [](const MaildropMessage& m, uint32_t u) { return m.uid < u; });
        if (it == snapshot_.end() || it->uid != uid) return {};
        size_t i = static_cast<size_t>(it - snapshot_.begin());
        if (seen_[i]) return {};
        seen_[i] = true;
        unsaved_seen_.push_back(uid);
        return {};
    }
    std::expected<void, MaildropError> expunge(std::span<const uint32_t> uids) override {
        // \Seen first: a failure there is only a warning and must not keep the deletions
        // from happening.
        std::expected<void, MaildropError> seen;
        if (!unsaved_seen_.empty()) {
            FlagChange ch{FlagOp::add, flag_seen, {}};
            if (auto r = box_->store_flags(unsaved_seen_, ch); !r)
                seen = std::unexpected(to_maildrop(r.error()));
            else
                unsaved_seen_.clear();
        }
        if (!uids.empty()) {
            if (auto r = box_->expunge(uids); !r) return std::unexpected(to_maildrop(r.error()));
            return {};  // deleted as asked; unsaved \Seen flags are not worth an -ERR
        }
        return seen;
    }

private:
    std::unique_ptr<Mailbox> box_;
    MaildropLock lock_;                      // released when the session ends
    std::vector<MaildropMessage> snapshot_;  // UID order (Mailbox::messages() is)
    std::vector<bool> seen_;                 // \Seen per snapshot entry (as marked)
    std::vector<uint32_t> unsaved_seen_;     // marked by RETR, committed by expunge()
};

}  // namespace

std::expected<std::unique_ptr<Maildrop>, MaildropError> open_store_maildrop(MailStore& store,
                                                                            const std::string& user,
                                                                            bool exclusive) {
    MaildropLock lock;
    if (exclusive) {
        auto l = store.try_lock_maildrop(user);
        if (!l) {
            if (l.error() == StoreError::in_use) return std::unexpected(MaildropError::in_use);
            return std::unexpected(l.error() == StoreError::not_found ? MaildropError::permanent
                                                                      : MaildropError::temporary);
        }
        lock = std::move(*l);
    }
    auto box = store.open_mailbox(user, "INBOX");
    if (!box) {
        return std::unexpected(box.error() == StoreError::not_found ? MaildropError::permanent
                                                                    : to_maildrop(box.error()));
    }
    // Sizes come with the snapshot: the session's STAT, LIST and RETR all use them.
    std::vector<uint32_t> uids;
    uids.reserve((*box)->messages().size());
    for (const auto& m : (*box)->messages()) uids.push_back(m.uid);
    auto infos = (*box)->info(uids);
    if (!infos) return std::unexpected(to_maildrop(infos.error()));
    return std::make_unique<StoreMaildrop>(std::move(*box), std::move(lock), *infos);
}

StoreBackend::StoreBackend(std::shared_ptr<Accounts> accounts, std::unique_ptr<MailStore> store,
                           std::string hostname, std::string fake_user_secret)
    : accounts_(std::move(accounts)), store_(std::move(store)), hostname_(std::move(hostname)),
      fake_user_secret_(std::move(fake_user_secret)) {
    callbacks_.resolve_login =
        [this](std::string_view login) -> std::expected<std::string, SaslLookupError> {
        auto r = accounts_->resolve_login(login);
        if (r) return *r;
        if (r.error() == StoreError::temporary) return std::unexpected(SaslLookupError::temporary);
        return std::unexpected(SaslLookupError::not_found);
    };
    callbacks_.verify_password = [this](std::string_view user, std::string_view password) {
        // Runs a dummy hash for unknown users (Accounts), so timing is uniform.
        return accounts_->verify_password(user, password) ? PasswordCheck::ok
                                                          : PasswordCheck::mismatch;
    };
    callbacks_.scram_credentials =
        [this](std::string_view user) -> std::expected<ScramKeys, SaslLookupError> {
        auto r = accounts_->scram_credentials(user);
        if (r) return *r;
        if (r.error() == StoreError::temporary) return std::unexpected(SaslLookupError::temporary);
        return std::unexpected(SaslLookupError::not_found);
    };
}

PoolJob StoreBackend::check_password_async(uv_loop_t* loop, const Pop3PasswordRequest& req,
                                           std::function<void(PasswordCheck)> done) {
    // Made once on the loop thread (the first check), read-only afterwards.
    if (dummy_hash_.empty()) {
        auto h = hash_password("postern-no-such-user");
        if (h) dummy_hash_ = std::move(*h);
    }
    struct Check {
        std::string user, password, dummy;
        bool known = false;
        PasswordCheck result = PasswordCheck::temporary;
        ~Check() { wipe(password); }
    };
    auto job = std::make_shared<Check>();
    job->user = req.user;
    job->password = req.password;
    job->dummy = dummy_hash_;
    job->known = req.known_user;
    // The hash lookup (LMDB) and the yescrypt verification both run on the pool.
    return run_on_pool(
        loop,
        [accounts = accounts_, job] {
            std::string hash;
            if (job->known) {
                auto u = accounts->get_user(job->user);
                if (u) {
                    hash = u->password_hash;
                } else if (u.error() == StoreError::temporary) {
                    job->result = PasswordCheck::temporary;
                    return;
                }
            }
            // Unknown users cost one hash too: no user enumeration by timing.
            bool match = verify_password(hash.empty() ? job->dummy : hash, job->password);
            wipe(job->password);
            job->result =
                job->known && !hash.empty() && match ? PasswordCheck::ok : PasswordCheck::mismatch;
        },
        [job, done = std::move(done)] { done(job->result); });
}

SaslOptions StoreBackend::sasl_options() {
    SaslOptions o;
    o.hostname = hostname_;
    o.fake_user_secret = fake_user_secret_;
    return o;
}

std::expected<std::unique_ptr<Maildrop>, MaildropError> StoreBackend::open_maildrop(
    const std::string& user) {
    return open_store_maildrop(*store_, user, !allow_concurrent_);
}

}  // namespace postern
