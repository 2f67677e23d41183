#include "smtpd/smtp_policy.h"

#include "smtpd/sender_check_sink.h"
#include "smtpd/sender_owner.h"
#include "smtpd/smtp_queue_sink.h"
#include "libproto/core/log.h"
#include "libproto/core/log_escape.h"
#include "libproto/net/pool_job.h"

namespace postern {

namespace {

SmtpVerdict store_verdict(StoreError e) {
    switch (e) {
    case StoreError::invalid: return SmtpVerdict::bad_address;
    case StoreError::no_space: return SmtpVerdict::no_room;
    case StoreError::over_quota: return SmtpVerdict::over_quota;
    default: return SmtpVerdict::temp_failure;
    }
}

Envelope queue_envelope(const SmtpClientInfo& c, const SmtpEnvelope& e) {
    Envelope env;
    env.reverse_path = e.reverse_path;
    for (const auto& r : e.recipients) {
        Recipient q;
        q.address = r.address;
        q.notify = r.dsn.notify;  // same bit values as dsn_notify
        if (!r.dsn.orcpt_type.empty()) q.orcpt = r.dsn.orcpt_type + ";" + r.dsn.orcpt;
        env.recipients.push_back(std::move(q));
    }
    env.envid = e.params.envid;
    env.ret = e.params.ret == SmtpDsnRet::full   ? DsnRet::full
              : e.params.ret == SmtpDsnRet::hdrs ? DsnRet::hdrs
                                                 : DsnRet::unspecified;
    env.body = e.params.body == SmtpBody::eight_bit_mime ? BodyType::eight_bit_mime
               : e.params.body == SmtpBody::seven_bit    ? BodyType::seven_bit
                                                         : BodyType::unspecified;
    env.smtputf8 = e.params.smtputf8;
    env.requiretls = e.params.requiretls;
    env.client_ip = c.ip;
    env.client_helo = c.helo;
    env.auth_user = c.auth_user;
    return env;
}

}  // namespace

SmtpPolicy::SmtpPolicy(uv_loop_t* loop, std::shared_ptr<Accounts> accounts,
                       std::unique_ptr<MailStore> store, Queue queue, SmtpPolicyConfig config)
    : loop_(loop), accounts_(std::move(accounts)), store_(std::move(store)),
      queue_(std::move(queue)),
      config_(std::make_shared<const SmtpPolicyConfig>(std::move(config))),
      room_(loop_, *store_, config_->max_message_size), stock_(loop_, queue_) {
    auto acc = accounts_;
    sasl_callbacks_.resolve_login =
        [acc](std::string_view login) -> std::expected<std::string, SaslLookupError> {
        auto r = acc->resolve_login(login);
        if (r) return *r;
        return std::unexpected(r.error() == StoreError::not_found ||
                                       r.error() == StoreError::invalid
                                   ? SaslLookupError::not_found
                                   : SaslLookupError::temporary);
    };
    sasl_callbacks_.verify_password = [acc](std::string_view user, std::string_view pw) {
        return acc->verify_password(user, pw) ? PasswordCheck::ok : PasswordCheck::mismatch;
    };
    sasl_callbacks_.scram_credentials =
        [acc](std::string_view user) -> std::expected<ScramKeys, SaslLookupError> {
        auto r = acc->scram_credentials(user);
        if (r) return *r;
        return std::unexpected(r.error() == StoreError::not_found ? SaslLookupError::not_found
                                                                  : SaslLookupError::temporary);
    };
}

namespace {

// A verdict computed on the pool, delivered on the loop (the session ignores it if gone).
void verdict_on_pool(uv_loop_t* loop, std::function<SmtpVerdict()> verdict,
                     SmtpHandler::Done done) {
    auto v = std::make_shared<SmtpVerdict>(SmtpVerdict::temp_failure);
    run_on_pool_detached(
        loop, [v, verdict = std::move(verdict)] { *v = verdict(); },
        [v, done = std::move(done)] { done(*v); });
}

}  // namespace

void SmtpPolicy::check_mail(const SmtpClientInfo& c, const ParsedPath& from,
                            const MailParams& params, Done done) {
    uint64_t size = params.size.value_or(0);
    const std::string sender = from.is_null ? std::string() : from.local + "@" + from.domain;
    if (checks_sender(*config_, c) && !from.is_null && !sender_is_user(c.auth_user, sender)) {
        // Maybe an alias of the user: the accounts are read on the pool, with the room check.
        verdict_on_pool(
            loop_,
            [accounts = accounts_, store = store_.get(), user = c.auth_user, sender, size] {
                switch (sender_owner(*accounts, user, sender)) {
                case SenderOwnership::owned: break;
                case SenderOwnership::not_owned:
                    log_msg(LogLevel::info,
                            "sender refused: user=%s MAIL FROM:<%s> is not the user's",
                            log_escape(user).c_str(), log_escape(sender).c_str());
                    return SmtpVerdict::sender_mismatch;
                case SenderOwnership::temp_failure: return SmtpVerdict::temp_failure;
                }
                return store->has_room(size) ? SmtpVerdict::ok : SmtpVerdict::no_room;
            },
            std::move(done));
        return;
    }
    if (auto room = room_.room_for(size)) {
        done(*room ? SmtpVerdict::ok : SmtpVerdict::no_room);
        return;
    }
    verdict_on_pool(
        loop_,
        [store = store_.get(), size] {
            return store->has_room(size) ? SmtpVerdict::ok : SmtpVerdict::no_room;
        },
        std::move(done));
}

SmtpVerdict SmtpPolicy::recipient_verdict(const SmtpClientInfo& c, const ParsedPath& to) {
    return recipient_verdict_with(*config_, *accounts_, *store_, c, to);
}

SmtpVerdict recipient_verdict_with(const SmtpPolicyConfig& config, Accounts& accounts,
                                   MailStore& store, const SmtpClientInfo& c,
                                   const ParsedPath& to) {
    const bool trusted = !c.auth_user.empty() || config.relay_networks.contains(c.ip);
    // user%host@us and host!user@us: old relay tricks, never honoured.
    if (to.percent_hack) return SmtpVerdict::bad_address;
    std::string addr =
        to.is_postmaster ? "postmaster@" + config.hostname : to.local + "@" + to.domain;
    auto kind = accounts.resolve_recipient(addr);
    if (!kind) {
        if (kind.error() == StoreError::not_found) {
            // Not a local domain.
            return trusted ? SmtpVerdict::ok : SmtpVerdict::relay_denied;
        }
        return store_verdict(kind.error());
    }
    switch (*kind) {
    case RecipientKind::local_user:
    case RecipientKind::alias:
    case RecipientKind::catch_all:
        return store.has_room(0) ? SmtpVerdict::ok : SmtpVerdict::no_room;
    case RecipientKind::unknown_local: return SmtpVerdict::unknown_user;
    case RecipientKind::not_local: return trusted ? SmtpVerdict::ok : SmtpVerdict::relay_denied;
    }
    return SmtpVerdict::temp_failure;
}

void SmtpPolicy::check_rcpt(const SmtpClientInfo& c, const ParsedPath& to, Done done) {
    // Accounts and the store outlive the pool work (the policy lives as long as the
    // process); the work copies the rest.
    verdict_on_pool(
        loop_,
        [config = config_, accounts = accounts_, store = store_.get(), c, to] {
            return recipient_verdict_with(*config, *accounts, *store, c, to);
        },
        std::move(done));
}

void SmtpPolicy::run_blocking(std::function<void()> work, std::function<void()> done) {
    run_on_pool_detached(loop_, std::move(work), std::move(done));
}

void SmtpPolicy::open_message(const SmtpClientInfo& c, const SmtpEnvelope& env,
                              const ReceivedInfo& received, OpenDone done) {
    const uint64_t size = env.params.size.value_or(0);
    const auto room = room_.room_for(size);
    if (room == std::optional<bool>(false)) {
        done({SmtpVerdict::no_room, nullptr});
        return;
    }
    // The sink over a fresh entry; the Received header names its id, so it goes first.
    // On a checked session the From: header is watched as it streams (sender_check_sink.h).
    std::shared_ptr<Accounts> checker = checks_sender(*config_, c) ? accounts_ : nullptr;
    auto sink_for = [loop = loop_, qenv = queue_envelope(c, env), received,
                     run_dir = config_->run_dir, checker, user = c.auth_user,
                     sender = env.reverse_path](QueueWriter writer) mutable {
        std::string header = format_received(received, writer.id());
        auto sink = make_queue_sink(loop, std::move(writer), std::move(qenv), std::move(header),
                                    std::move(run_dir));
        if (!checker) return sink;
        return make_sender_check_sink(loop, std::move(sink), std::move(checker), std::move(user),
                                      std::move(sender));
    };
    if (room == std::optional<bool>(true)) {
        if (auto writer = stock_.take()) {
            done({SmtpVerdict::ok, sink_for(std::move(*writer))});
            return;
        }
    }
    // Made on the pool, handed to the sink on the loop. If the session is gone by then,
    // the writer dies with this and removes its partial entry.
    struct Opening {
        SmtpVerdict verdict = SmtpVerdict::temp_failure;
        std::optional<QueueWriter> writer;
    };
    auto o = std::make_shared<Opening>();
    run_on_pool_detached(
        loop_,
        [o, store = store_.get(), queue = &queue_, size] {
            if (!store->has_room(size)) {
                o->verdict = SmtpVerdict::no_room;
                return;
            }
            auto writer = queue->create();
            if (!writer) {
                log_msg(LogLevel::error, "queue: cannot create an entry: %s",
                        queue_error_text(writer.error()));
                o->verdict = writer.error() == QueueError::no_space ? SmtpVerdict::no_room
                                                                    : SmtpVerdict::temp_failure;
                return;
            }
            o->writer.emplace(std::move(*writer));
            o->verdict = SmtpVerdict::ok;
        },
        [o, sink_for = std::move(sink_for), done = std::move(done)]() mutable {
            if (o->verdict != SmtpVerdict::ok) {
                done({o->verdict, nullptr});
                return;
            }
            done({SmtpVerdict::ok, sink_for(std::move(*o->writer))});
        });
}

std::unique_ptr<SaslServer> SmtpPolicy::sasl(std::string_view mechanism) {
    SaslOptions opt;
    opt.hostname = config_->hostname;
    opt.fake_user_secret = config_->fake_user_secret;
    opt.defer_lookups = true;  // the session hands the work to run_blocking()
    return make_sasl_server(mechanism, sasl_callbacks_, opt);
}

}  // namespace postern
