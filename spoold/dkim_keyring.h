#pragma once
// The DKIM keys spoold signs outgoing mail with: for each domain under the key directory
// (<paths.data>/dkim, layout in libproto/dkim/dkim_key_dir.h), the key of its active
// selector, loaded once (at start and on SIGHUP: a new keyring replaces the old one).
//
// Threading: signing reads the message and does the RSA or Ed25519 work, so it blocks: call
// it on the thread pool (SmtpTransport's `prefix` hook runs there). A keyring is immutable
// once loaded, so any number of threads may sign with it at once.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/store.h"
#include "libproto/dkim/dkim_key.h"

namespace postern {

class DkimKeyring {
public:
    using Clock = std::function<int64_t()>;  // unix seconds, for t=

    DkimKeyring() = default;
    // Every domain's active key under `dir` (a missing dir: no keys). A key that cannot be
    // used (mode, owner, not a key, too weak, several and no "active") is left out with one
    // line in `warnings`. `clock` defaults to the system clock.
    static DkimKeyring load(const std::filesystem::path& dir, std::vector<std::string>& warnings,
                            Clock clock = {});

    size_t size() const { return keys_.size(); }
    bool has_key(std::string_view domain) const;  // domain lower-case
    std::vector<std::string> domains() const;

    // The whole "DKIM-Signature: ...\r\n" field for `msg` signed for `signing_domain`, or
    // nullopt when there is no key for it, the message cannot be read, or its header is
    // larger than kDkimMaxHeaderBytes. The header is parsed once; the body is streamed.
    std::optional<std::string> signature_header(std::string_view signing_domain,
                                                MessageReader& msg) const;
    // Signs for the domain of the From: address when there is a key for it (the rule for
    // outgoing mail); nullopt otherwise. Reads no body when there is no key.
    std::optional<std::string> sign(MessageReader& msg) const;

private:
    struct Entry {
        std::string selector;
        DkimKey key;
    };
    // domain empty: the From: domain decides.
    std::optional<std::string> sign_for(std::optional<std::string_view> domain,
                                        MessageReader& msg) const;

    std::map<std::string, Entry, std::less<>> keys_;
    Clock clock_;
};

// The keyring spoold signs with: loaded at start, replaced on SIGHUP while pool threads may
// be signing with the old one (they keep it alive until they finish).
class DkimSigning {
public:
    // Loads <data_dir>/dkim, logging each warning and how many domains sign.
    void load(const std::filesystem::path& data_dir);
    // SmtpTransportOptions::prefix: the DKIM-Signature field for the From: domain, or "".
    // Blocking (pool).
    std::string prefix(MessageReader& msg) const;

private:
    std::shared_ptr<const DkimKeyring> current() const;

    mutable std::mutex mu_;  // only around the pointer: signing itself runs unlocked
    std::shared_ptr<const DkimKeyring> ring_;
};

}  // namespace postern
