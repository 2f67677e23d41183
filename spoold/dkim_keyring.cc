#include "spoold/dkim_keyring.h"

#include <chrono>

#include "libproto/core/ascii.h"
#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/dkim/dkim_key_dir.h"
#include "libproto/dkim/dkim_message.h"
#include "libproto/dkim/dkim_signer.h"

namespace postern {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

int64_t system_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

DkimKeyring DkimKeyring::load(const std::filesystem::path& dir, std::vector<std::string>& warnings,
                              Clock clock) {
    DkimKeyring ring;
    ring.clock_ = clock ? std::move(clock) : Clock(system_now);
    std::map<std::string, int> per_domain;
    for (const auto& k : dkim_list_keys(dir)) ++per_domain[k.domain];
    for (const auto& [domain, count] : per_domain) {
        auto selector = dkim_active_selector(dir, domain);
        if (!selector) {
            warnings.push_back("dkim: " + domain + " has " + std::to_string(count) +
                               " keys and no usable 'active' file naming one: not signing for it");
            continue;
        }
        auto key = dkim_read_key_file(dir / domain / (*selector + ".key"));
        if (!key) {
            warnings.push_back("dkim: " + key.error() + ": not signing for " + domain);
            continue;
        }
        ring.keys_.emplace(domain, Entry{*selector, std::move(*key)});
    }
    return ring;
}

bool DkimKeyring::has_key(std::string_view domain) const { return keys_.contains(domain); }

std::vector<std::string> DkimKeyring::domains() const {
    std::vector<std::string> out;
    out.reserve(keys_.size());
    for (const auto& [d, e] : keys_) out.push_back(d);
    return out;
}

std::optional<std::string> DkimKeyring::signature_header(std::string_view signing_domain,
                                                         MessageReader& msg) const {
    return sign_for(signing_domain, msg);
}

std::optional<std::string> DkimKeyring::sign(MessageReader& msg) const {
    return sign_for(std::nullopt, msg);
}

std::optional<std::string> DkimKeyring::sign_for(std::optional<std::string_view> domain,
                                                 MessageReader& msg) const {
    if (keys_.empty()) return std::nullopt;
    const Entry* entry = nullptr;
    std::string signing_domain;
    auto pick = [&](std::string_view d) {
        auto it = keys_.find(ascii_lowered(d));
        if (it == keys_.end()) return false;
        signing_domain = it->first;
        entry = &it->second;
        return true;
    };
    if (domain && !pick(*domain)) return std::nullopt;

    DkimMessage m;
    std::string buf(kReadChunk, '\0');
    uint64_t offset = 0;
    while (true) {
        auto n = msg.read_at(offset, buf);
        if (!n) {
            log_msg(LogLevel::warning, "dkim: cannot read the message to sign it: not signed");
            return std::nullopt;
        }
        if (*n == 0) break;
        offset += *n;
        if (!m.feed(std::string_view(buf).substr(0, *n))) break;
        // The From: domain decides before any body is read.
        if (!entry && m.header_complete()) {
            auto from = dkim_from_domain(m.fields());
            if (!from || !pick(*from)) return std::nullopt;
        }
    }
    if (!m.finish()) {
        log_msg(LogLevel::warning, "dkim: header over %zu bytes: not signed", kDkimMaxHeaderBytes);
        return std::nullopt;
    }
    if (!entry) {  // all header, no body
        auto from = dkim_from_domain(m.fields());
        if (!from || !pick(*from)) return std::nullopt;
    }
    DkimSignParams params{signing_domain, entry->selector, clock_()};
    auto field = dkim_signature_field(entry->key, params, m.fields(), m.body_hash());
    if (!field) {
        log_msg(LogLevel::warning, "dkim: signing for %s failed: %s", signing_domain.c_str(),
                log_escape(field.error()).c_str());
        return std::nullopt;
    }
    return std::move(*field);
}

void DkimSigning::load(const std::filesystem::path& data_dir) {
    std::vector<std::string> warnings;
    auto ring =
        std::make_shared<const DkimKeyring>(DkimKeyring::load(dkim_key_dir(data_dir), warnings));
    for (const auto& w : warnings) log_msg(LogLevel::warning, "%s", w.c_str());
    if (ring->size() > 0)
        log_msg(LogLevel::info, "dkim: signing mail from %zu domain(s)", ring->size());
    std::lock_guard lock(mu_);
    ring_ = std::move(ring);
}

std::shared_ptr<const DkimKeyring> DkimSigning::current() const {
    std::lock_guard lock(mu_);
    return ring_;
}

std::string DkimSigning::prefix(MessageReader& msg) const {
    auto ring = current();
    if (!ring) return {};
    return ring->sign(msg).value_or(std::string());
}

}  // namespace postern
