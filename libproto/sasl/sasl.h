#pragma once
// Server side of SASL (RFC 4422) for smtpd, pop3d and imapd: PLAIN (RFC 4616),
// LOGIN (draft-murchison-sasl-login), SCRAM-SHA-256 (RFC 5802 / RFC 7677) and,
// optionally, CRAM-MD5 (RFC 2195). Pure state machines: base64 lines in,
// base64 challenges or a result out. No sockets, no store access: the daemon
// supplies credential lookups through SaslCallbacks.
//
// Protocol layer usage (SMTP shown; POP3 "+ ", IMAP "+ " are the same):
//   auto sasl = make_sasl_server(mech, callbacks);     // nullptr: 504 unknown mechanism
//   SaslStep s = sasl->start(initial_response);          // nullopt if AUTH had no argument
//   while (auto* c = std::get_if<SaslChallenge>(&s)) {
//       send("334 " + c->base64);  s = sasl->step(next_client_line);
//   }
//   SaslSuccess -> 235 / +OK / OK as s.user;  SaslFailed -> map reason to a reply.
// The engine handles base64, "*" (cancel) and "=" (empty initial response) itself.
// With SaslOptions::defer_lookups a step may be SaslPending: run its work off the event
// loop (it calls the SaslCallbacks there and owns what it touches), then s = resume().

#include "libproto/core/scram_keys.h"

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace postern {

// Why a lookup could not answer. not_found is a normal "no such user" answer.
enum class SaslLookupError { not_found, temporary };

enum class PasswordCheck { ok, mismatch, temporary };

// Credential lookups supplied by the daemon (backed by libmailstore). Called
// synchronously from start()/step()/resume(), or with defer_lookups from SaslPending::work
// on another thread (they must then be thread-safe). Unset callbacks disable what needs them.
struct SaslCallbacks {
    // Login name as typed by the client ("user@domain", "user%domain", "user")
    // -> canonical user ("user@domain"). For unknown names the daemon should
    // spend about as long as for known ones (no user-enumeration by timing).
    std::function<std::expected<std::string, SaslLookupError>(std::string_view login)>
        resolve_login;
    // Called with the canonical user from resolve_login; and, when the login named nobody,
    // with the login as typed, the result ignored: for a name that is no user the daemon
    // must still spend one password hash (a dummy verification), so unknown users cost
    // the same as known ones.
    std::function<PasswordCheck(std::string_view user, std::string_view password)> verify_password;
    // Stored SCRAM-SHA-256 keys for a canonical user.
    std::function<std::expected<ScramKeys, SaslLookupError>(std::string_view user)>
        scram_credentials;
    // CRAM-MD5 shared secret (the plaintext password) for a canonical user.
    // Only needed when CRAM-MD5 is enabled by policy.
    std::function<std::expected<std::string, SaslLookupError>(std::string_view user)>
        cram_md5_secret;
};

struct SaslOptions {
    // Server secret used to derive fake SCRAM salts/keys for unknown users, so the
    // exchange for a missing user looks the same as for a real one. Should be
    // random per installation and stable across restarts (else a salt change per
    // restart tells which users exist). Empty: a per-process random secret.
    std::string fake_user_secret;
    // Iteration count advertised for unknown users (match what the store uses).
    uint32_t fake_iterations = scram_default_iterations;
    // Server nonce part for SCRAM (and the CRAM-MD5 challenge). Tests inject a
    // fixed value; default: 18 random bytes, base64 (printable, no ',').
    std::function<std::string()> nonce_source;
    // Hostname used in the CRAM-MD5 challenge <random.time@hostname>.
    std::string hostname = "localhost";
    // RFC 4422 section 5 "additional data with success": SMTP (RFC 4954) and
    // POP3 (RFC 5034) cannot carry it, so by default the SCRAM server-final
    // message is sent as one more challenge and the client's empty response
    // completes the exchange. Set true for IMAP4rev2 / protocols that can
    // carry it in the success reply (it then appears in SaslSuccess::final_data).
    bool success_data_allowed = false;
    // Longest client line accepted (base64 text), per step.
    size_t max_line = 8192;
    // Callback calls (login resolution, password checks, SCRAM key lookups; not CRAM-MD5)
    // are returned as SaslPending work for the daemon's thread pool instead of run inline.
    bool defer_lookups = false;
};

enum class SaslFailure {
    malformed,        // bad base64, bad mechanism syntax, oversize, step after the end
    bad_credentials,  // unknown user, wrong password/proof, authzid not allowed
    cancelled,        // client sent "*"
    temp_failure,  // a lookup failed temporarily (454 4.7.0 / -ERR [SYS/TEMP] / NO [UNAVAILABLE])
    refused,       // the admission check said no (too many failures): nothing was verified
    too_long,      // a response or field over its limit (500 5.5.6); nothing was verified
};

std::string_view sasl_failure_text(SaslFailure f);

struct SaslChallenge {
    std::string base64;  // send as "334 <base64>" / "+ <base64>"; may be empty
};
struct SaslSuccess {
    std::string user;                       // canonical user (from resolve_login)
    std::optional<std::string> final_data;  // base64, only if success_data_allowed
};
struct SaslFailed {
    SaslFailure reason;
};
// Blocking callback work to run off the loop; then call resume() on the loop thread. The
// work holds copies of the callbacks and its inputs, never the SaslServer: it may outlive it.
struct SaslPending {
    std::function<void()> work;
};
using SaslStep = std::variant<SaslChallenge, SaslSuccess, SaslFailed, SaslPending>;

struct PasswordLookupResult;  // sasl.cc

class SaslServer {
public:
    virtual ~SaslServer() = default;
    SaslServer(const SaslServer&) = delete;
    SaslServer& operator=(const SaslServer&) = delete;

    // First call, exactly once. `initial_response`: the initial-response argument
    // exactly as sent (base64, "=" for an empty one, or "*"), nullopt when absent.
    SaslStep start(std::optional<std::string_view> initial_response);
    // Every following client line (base64, possibly empty, or "*"), without CRLF.
    SaslStep step(std::string_view client_line);
    // After a SaslPending's work has run: the exchange continues with its results.
    SaslStep resume();

    std::string_view mechanism() const { return mechanism_; }
    bool done() const { return done_; }
    // Authentication identity as sent by the client, once known (for logging).
    const std::string& login_name() const { return login_name_; }
    // The canonical user once the login resolved, else the login as typed: the key of
    // failed-login budgets (auth_budget.h). Empty until the login is known.
    const std::string& account() const { return account_; }

    // Asked once the login is known and before any password or proof is checked, with
    // account(); false ends the exchange as SaslFailure::refused. Called synchronously
    // from start()/step().
    using Admission = std::function<bool(std::string_view account)>;
    void set_admission(Admission admission) { admission_ = std::move(admission); }

protected:
    SaslServer(std::string_view mechanism, const SaslCallbacks& cb, const SaslOptions& opt);

    // Mechanism hooks. `data` is decoded; `first` is true for the initial response.
    virtual SaslStep on_start_without_data() = 0;
    virtual SaslStep on_data(std::string_view data, bool first) = 0;

    SaslStep challenge(std::string_view raw);
    SaslStep fail(SaslFailure f);
    SaslStep succeed(std::string user, std::optional<std::string> final_raw = {});
    // Resolve + verify a password login (PLAIN, LOGIN); wipes nothing itself.
    SaslStep check_password(std::string_view login, std::string_view password);
    // Sets account() and asks the admission check (true when there is none).
    bool admitted(std::string_view account);
    // Runs `work` then `then` now, or (defer_lookups) returns SaslPending{work} and keeps
    // `then` for resume().
    SaslStep defer(std::function<void()> work, std::function<SaslStep()> then);
    // PLAIN: the authorization identity the success must match (empty: none given).
    std::string authzid_;
    // The end of a password login (PLAIN, LOGIN), on the loop thread.
    SaslStep password_checked(PasswordLookupResult& st);

    std::string mechanism_;
    SaslCallbacks cb_;
    SaslOptions opt_;
    std::string login_name_;
    std::string account_;
    Admission admission_;

private:
    SaslStep handle(std::string_view line, bool first);

    bool started_ = false;
    bool done_ = false;
    // Pending success held back until the client acks the final challenge.
    std::optional<std::string> pending_user_;
    std::function<SaslStep()> continuation_;  // after SaslPending: what resume() runs
};

// Creates the server side for `mechanism` (case-insensitive). nullptr if unknown
// (or CRAM-MD5 without a cram_md5_secret callback).
std::unique_ptr<SaslServer> make_sasl_server(std::string_view mechanism, const SaslCallbacks& cb,
                                             const SaslOptions& opt = {});

struct SaslPolicy {
    bool allow_plaintext = false;  // offer PLAIN/LOGIN without TLS
    bool cram_md5 = false;         // offer CRAM-MD5 (needs plaintext secrets)
};

// Mechanisms to advertise, strongest first, e.g. {"SCRAM-SHA-256", "PLAIN", "LOGIN"}.
// Without TLS and without allow_plaintext, PLAIN and LOGIN are left out.
std::vector<std::string_view> sasl_mechanisms(bool tls_active, const SaslPolicy& policy);

// Whether a client-requested mechanism may be used now (clients may ask for
// mechanisms that were not advertised). Case-insensitive.
bool sasl_mechanism_allowed(std::string_view mechanism, bool tls_active, const SaslPolicy& policy);

}  // namespace postern
