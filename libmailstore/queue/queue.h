#pragma once
// The mail queue: messages accepted by smtpd wait here, durably, until spoold has
// delivered (or bounced) them. See docs/queue.md for the on-disk layout and the
// durability argument.
//
// Layout under QUEUE_DIR:
//   incoming/<id>   being written (never listed; removed by clean_incoming at spoold start)
//   active/<id>     committed: message bytes, then the envelope as a trailer block
//   state/<id>      optional append-only log of delivery progress (expansions, per-target
//                   delivered/deferred/failed, attempts, hold); absent until needed
//
// Thread-safety: a Queue may be copied and used from several threads at once (copies share
// the directory handles and the group-commit state). A QueueWriter belongs to one thread at
// a time (it may be handed to a worker thread for commit).

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

// A closed set; queue_error_text gives a short English phrase for logs and replies.
enum class QueueError { not_found, invalid, no_space, io };
const char* queue_error_text(QueueError e);

// RFC 3461 NOTIFY as a bit set; 0 means "not given" (treated as failure+delay).
namespace dsn_notify {
inline constexpr uint8_t never = 1;
inline constexpr uint8_t success = 2;
inline constexpr uint8_t failure = 4;
inline constexpr uint8_t delay = 8;
}  // namespace dsn_notify

enum class DsnRet : uint8_t { unspecified, full, hdrs };
enum class BodyType : uint8_t { unspecified, seven_bit, eight_bit_mime, binary_mime };

enum class RcptStatus : uint8_t {
    pending,    // not yet done (maybe deferred: see last_error and the targets)
    delivered,  // every target it expands to was delivered
    failed,     // failed for good (expansion, or every target done and one failed)
};

// One final address a recipient expands to (aliases resolved): a local mailbox
// ("user@domain") or a remote address. Each has its own durable state in state/<id>.
enum class TargetState : uint8_t {
    pending,    // not tried yet
    delivered,  // done; never tried again
    deferred,   // tried, temporary failure: next_attempt, attempts, reply
    failed,     // permanent failure (reply); bounced once `notified`
};
const char* target_state_text(TargetState s);

struct Target {
    std::string address{};
    bool remote = false;
    TargetState state = TargetState::pending;
    uint32_t attempts = 0;     // attempts made at this target
    int64_t next_attempt = 0;  // deferred: not before (unix seconds); 0 = due
    std::string reply{};       // last reply (deferred) or the final one (failed)
    bool notified = false;     // failed: the bounce was enqueued (or none was wanted)
};

struct Recipient {
    std::string address;  // as given in RCPT TO, without <>; may hold UTF-8 (SMTPUTF8)
    uint8_t notify = 0;   // dsn_notify bits
    std::string orcpt;    // ORCPT as given, e.g. "rfc822;bob@example.org" (xtext-decoded)
    // Progress, kept by spoold in state/<id>; smtpd leaves these at their defaults.
    RcptStatus status = RcptStatus::pending;  // derived from the targets once expanded
    std::string last_error;                   // expansion's last temporary or permanent error
    bool local_done = false;  // legacy "L" record: its local mailboxes got their copy
    bool expanded = false;    // targets holds the expansion, fixed at its first record
    bool notified = false;    // failed at expansion: the bounce was enqueued
    std::vector<Target> targets;
};

struct Envelope {
    std::string id;            // set by commit; ignored on input
    std::string reverse_path;  // MAIL FROM without <>; empty for the null path <>
    std::vector<Recipient> recipients;
    std::string envid;  // RFC 3461 ENVID (xtext-decoded), empty if not given
    DsnRet ret = DsnRet::unspecified;
    BodyType body = BodyType::unspecified;
    bool smtputf8 = false;
    bool requiretls = false;  // RFC 8689: every hop over verified TLS to a REQUIRETLS server
    // RFC 8689 5: the header says "TLS-Required: No" (and MAIL had no REQUIRETLS): the
    // recipient's published TLS policies (MTA-STS, DANE) are waived for this message.
    bool tls_optional = false;
    std::string client_ip;  // for logs and the DSN; may be empty (locally generated)
    std::string client_helo;
    std::string auth_user;  // authenticated login, empty if none
    int64_t arrival = 0;    // unix seconds; commit fills it in when 0
    // Filled in by the queue (ignored by commit):
    uint64_t size = 0;  // message bytes
    uint32_t attempts = 0;
    int64_t next_attempt = 0;     // unix seconds; 0 = due now
    bool held = false;            // mailctl queue hold: never attempted nor expired
    bool delay_notified = false;  // spoold sent its one delay warning (W record)
};

// Encodes / decodes the envelope trailer text (used by the queue; exposed for tests).
std::string encode_envelope(const Envelope& env);
std::expected<Envelope, QueueError> decode_envelope(std::string_view text);

class Queue;
namespace detail {
struct QueueCore;
}

// One message being received. Create with Queue::create(); append the message as it
// streams in; then commit() or abort(). Destroying an uncommitted writer aborts it.
class QueueWriter {
public:
    QueueWriter(QueueWriter&&) noexcept;
    QueueWriter& operator=(QueueWriter&&) noexcept;
    ~QueueWriter();

    const std::string& id() const { return id_; }
    uint64_t size() const { return size_; }

    // Appends message bytes (buffered; written to incoming/<id> in large chunks). Cheap
    // enough for the event loop thread: no fsync. After an error the writer only aborts.
    std::expected<void, QueueError> append(std::string_view bytes);

    // Appends bytes and writes them (with anything buffered) at once. Blocking: for a
    // worker thread (smtpd's streaming sink flushes its buffer this way).
    std::expected<void, QueueError> write(std::string_view bytes);

    // Writes the envelope, fdatasyncs the file, renames it into active/ and fsyncs the
    // directory (shared with concurrent commits: group commit). Blocking: a daemon runs it
    // on its thread pool (smtpd's queue sink, through run_on_pool). On success the entry is
    // durable and its id is returned; on failure the partial entry is removed.
    std::expected<std::string, QueueError> commit(Envelope env);

    // Removes the partial entry. Idempotent.
    void abort();

private:
    friend class Queue;
    QueueWriter(std::shared_ptr<detail::QueueCore> core, std::string id, int fd);
    std::expected<void, QueueError> flush_buffer();

    std::shared_ptr<detail::QueueCore> core_;
    std::string id_;
    int fd_ = -1;
    uint64_t size_ = 0;
    std::string buf_;
    bool failed_ = false;
};

// Delivery progress records (appended to state/<id> by spoold and mailctl). The text
// form and the replay rules are in queue_state.cc and docs/queue.md.
struct StateRecord {
    enum class Kind : uint8_t {
        attempt,          // A attempts next: an attempt of the entry ended
        done,             // D i: recipient delivered (legacy: before targets)
        fail,             // F i reply: recipient failed, bounce sent (legacy)
        defer,            // T i reply: recipient's expansion failed temporarily
        flush,            // N: everything due now
        local_done,       // L i: legacy, its local mailboxes had their copy
        expand,           // X i targets: recipient i expands to `targets` (first one wins)
        expand_fail,      // E i reply: recipient failed at expansion, not bounced yet
        notified,         // B i: recipient's failure bounced (or none wanted)
        target_done,      // d i j: target j of recipient i delivered
        target_defer,     // t i j attempts next reply
        target_fail,      // f i j reply
        target_notified,  // b i j: target's failure bounced (or none wanted)
        hold,             // H: held by mailctl
        release,          // U: released
        delay_notified,   // W: the one delay warning DSN was enqueued (or none was wanted)
    };
    Kind kind = Kind::attempt;
    uint32_t rcpt = 0;              // recipient index
    uint32_t attempts = 0;          // attempt, target_defer
    int64_t next_attempt = 0;       // attempt, target_defer
    std::string error{};            // fail, defer, expand_fail, target_defer, target_fail
    uint32_t target = 0;            // target index within the recipient (target_*)
    std::vector<Target> targets{};  // expand (address and remote only)
};

// The framed text line of a record ("<payload> #<check>\n"), and the records of a log:
// torn or damaged lines are skipped (docs/queue.md). Exposed for tests and the fuzzer.
std::string encode_state_record(const StateRecord& rec);
std::vector<StateRecord> decode_state_log(std::string_view log);

// Applies one record to env (the replay rule of each kind), then, after the last,
// derive_status() sets each recipient's status from its targets.
void apply_state_record(Envelope& env, const StateRecord& rec);
void derive_status(Envelope& env);

class Queue {
public:
    // Opens (creating if needed) the queue directory and its subdirectories.
    static std::expected<Queue, QueueError> open(const std::filesystem::path& dir);

    const std::filesystem::path& dir() const;

    // A new entry in incoming/ with a fresh, unique, time-ordered id.
    std::expected<QueueWriter, QueueError> create();

    // Every committed entry (envelope with progress merged in), oldest first.
    // Entries that vanish or are unreadable while listing are skipped.
    std::expected<std::vector<Envelope>, QueueError> list() const;

    // Ids of committed entries, oldest first (cheap: no file is read).
    std::expected<std::vector<std::string>, QueueError> ids() const;

    // One entry's envelope with progress merged in.
    std::expected<Envelope, QueueError> read(std::string_view id) const;

    // Reads message bytes [offset, offset+len) of a committed entry into out (appends).
    // Returns the number of bytes read (short at the end of the message).
    std::expected<size_t, QueueError> read_message(std::string_view id, uint64_t offset, size_t len,
                                                   std::string& out) const;

    // Deletes an entry (and its state). not_found if there is no such entry.
    std::expected<void, QueueError> remove(std::string_view id);

    // Makes every deferred entry that is not held due now. Returns how many entries it
    // touched. Follow with queue_wake_rescan() so a running spoold notices.
    std::expected<size_t, QueueError> flush();
    // One entry: true when it was made due, false when it is held (nothing written).
    std::expected<bool, QueueError> flush(std::string_view id);

    // Holds / releases one entry (a durable H / U record). Held entries are never attempted
    // nor expired. Follow with queue_wake_entry().
    std::expected<void, QueueError> hold(std::string_view id);
    std::expected<void, QueueError> release(std::string_view id);

    // Appends progress records to state/<id>; with sync the log is fdatasync'ed before
    // returning (used for done/fail so a crash does not repeat a delivery). Appends are
    // serialised by an flock on the log (spoold's threads and mailctl); not_found, and
    // nothing is left behind, when the entry is gone (deleted meanwhile).
    std::expected<void, QueueError> append_state(std::string_view id,
                                                 const std::vector<StateRecord>& recs, bool sync);

    // Removes what is in incoming/ (partial entries of crashed sessions; files a live
    // writer holds locked stay) and state logs without an entry. Only spoold calls this,
    // at start-up. Returns how many it removed.
    size_t clean_incoming();

    // True if id has the shape of a queue id (guards paths built from user input).
    static bool valid_id(std::string_view id);

private:
    explicit Queue(std::shared_ptr<detail::QueueCore> core) : core_(std::move(core)) {}
    std::shared_ptr<detail::QueueCore> core_;
};

// Tells a running spoold to look at the queue now (a datagram to RUN_DIR/spoold.sock):
// smtpd passes the id it just committed (spoold then need not scan the directory).
// Best effort and non-blocking: returns false if nobody listens (spoold also scans on a timer).
bool queue_wake(const std::filesystem::path& run_dir, std::string_view id = {});

// After Queue::flush(): tells spoold that every entry it knows may be due ("f").
bool queue_wake_rescan(const std::filesystem::path& run_dir);

// After flush(id), hold, release or remove of one entry: spoold re-reads its schedule
// ("f<id>").
bool queue_wake_entry(const std::filesystem::path& run_dir, std::string_view id);

// The wake-up socket path spoold binds.
std::filesystem::path queue_wake_socket(const std::filesystem::path& run_dir);

}  // namespace postern
