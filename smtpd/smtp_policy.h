#pragma once
// smtpd's policy: the SmtpHandler the SMTP engine calls. Recipients are
// looked up in Accounts, relaying needs AUTH or a relay_networks address,
// room is checked with MailStore::has_room, and accepted messages go to the
// queue, committed (fsync'd) on libuv's thread pool before the 250 is sent.
// One instance per process, shared by all sessions. Every store or accounts call
// (recipient lookups, has_room, queue-file creation, login resolution, password and SCRAM
// key checks) runs on the thread pool too (run_on_pool_detached; the session's weak token
// drops late answers), so the loop never waits for a disk. A message costs one pool round
// trip per RCPT and one for the commit: MAIL FROM and DATA are answered from a recent
// has_room reading (room_gauge.h) and DATA takes a queue entry created ahead
// (queue_file_stock.h); when either cannot answer, DATA's check is one pool job.

#include <filesystem>
#include <memory>
#include <string>

#include <uv.h>

#include "libmailstore/accounts.h"
#include "libmailstore/queue/queue.h"
#include "libmailstore/store.h"
#include "libproto/smtp/smtp_session.h"
#include "libproto/config/cidr.h"
#include "smtpd/queue_file_stock.h"
#include "smtpd/room_gauge.h"

namespace postern {

struct SmtpPolicyConfig {
    std::string hostname;
    CidrList relay_networks;
    std::filesystem::path run_dir;  // spoold's wake-up socket lives here
    bool cram_md5 = false;
    std::string fake_user_secret;   // instance_secret.h: unknown users' fake SCRAM salts
    uint64_t max_message_size = 0;  // smtpd.max_message_size: what "plenty of room" means
    // smtpd.allow_sender_mismatch: false checks, on every authenticated session, that
    // MAIL FROM (553 5.7.1) and the From: header (550 5.7.1 after DATA) are the user's own
    // or an alias of the user (sender_owner.h). The null sender <> is accepted: RFC 6409
    // does not forbid it and MDNs must use it (RFC 8098 2.1); its From: is still checked.
    bool allow_sender_mismatch = false;
};

// The one place that decides whether a listener offers AUTH: the submission ports always,
// the MX port only with smtpd.auth_on_mx.
inline bool listener_offers_auth(SmtpListenerKind kind, bool auth_on_mx) {
    return kind != SmtpListenerKind::mx || auth_on_mx;
}

// Whether this session's senders are checked against its login.
inline bool checks_sender(const SmtpPolicyConfig& config, const SmtpClientInfo& c) {
    return !c.auth_user.empty() && !config.allow_sender_mismatch;
}

// The recipient verdict itself: blocking (accounts and store lookups), thread-safe.
SmtpVerdict recipient_verdict_with(const SmtpPolicyConfig& config, Accounts& accounts,
                                   MailStore& store, const SmtpClientInfo& c, const ParsedPath& to);

class SmtpPolicy : public SmtpHandler {
public:
    SmtpPolicy(uv_loop_t* loop, std::shared_ptr<Accounts> accounts,
               std::unique_ptr<MailStore> store, Queue queue, SmtpPolicyConfig config);

    // Pool work holds the config it started with; a reload swaps it on the loop thread.
    void set_config(SmtpPolicyConfig config) {
        room_.set_max_message_size(config.max_message_size);
        config_ = std::make_shared<const SmtpPolicyConfig>(std::move(config));
    }

    void check_mail(const SmtpClientInfo& c, const ParsedPath& from, const MailParams& params,
                    Done done) override;
    void check_rcpt(const SmtpClientInfo& c, const ParsedPath& to, Done done) override;
    // Room for the declared size, and a new queue entry (incoming/<id>) that the message
    // streams into (smtp_queue_sink.h): at once from the gauge and the stock, else one pool job.
    void open_message(const SmtpClientInfo& c, const SmtpEnvelope& env,
                      const ReceivedInfo& received, OpenDone done) override;
    std::unique_ptr<SaslServer> sasl(std::string_view mechanism) override;
    void run_blocking(std::function<void()> work, std::function<void()> done) override;

    // Synchronous recipient verdict (exposed for tests).
    SmtpVerdict recipient_verdict(const SmtpClientInfo& c, const ParsedPath& to);

private:
    uv_loop_t* loop_;
    std::shared_ptr<Accounts> accounts_;
    std::unique_ptr<MailStore> store_;
    Queue queue_;
    std::shared_ptr<const SmtpPolicyConfig> config_;
    RoomGauge room_;
    QueueFileStock stock_;
    SaslCallbacks sasl_callbacks_;
};

}  // namespace postern
