#pragma once
// The FETCH response producer. It runs on the pool (one produce() per s.blocking round)
// and appends a bounded piece of the response each time, so a FETCH of 100,000 messages
// or of a 50 MB body never sits whole in memory: cmd_fetch.cc hands each piece to the
// session and waits for the client to drain it before asking for the next.
//
// Per batch of messages it sets \Seen (one store_flags, when the plan says so) and reads
// info() once; per message it opens the reader at most once and takes the MIME structure
// from the cache (fetch_message.h); the structures parsed in a round are cached with one
// cache_put_many when the round ends (one store write per round, not per message). Literal bodies are streamed from the reader in 64 KB
// chunks: raw for BODY[...], through the transfer decoder for BINARY[...] (whose size is
// counted first, in a decoding pass, since a literal announces its length).
//
// Messages that are gone (expunged by another session) are skipped whole: nothing of them
// is written once their data cannot be read. Once a literal is announced its length is
// kept: a read failing half-way pads it with spaces and ends the FETCH with an error.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imapd/fetch_message.h"
#include "imapd/fetch_plan.h"
#include "libmailstore/store.h"
#include "libproto/mime/mime_transfer_decoder.h"

namespace postern {

class FetchJob {
public:
    static constexpr size_t kChunk = 64 * 1024;
    static constexpr size_t kBatch = 256;  // messages per \Seen store_flags and info() call
    static constexpr std::chrono::milliseconds kRoundTime{50};  // per produce(), roughly

    FetchJob(std::shared_ptr<Mailbox> box, FetchPlan plan, std::vector<uint32_t> uids);

    // CHANGEDSINCE (RFC 7162 3.1.4.1): keeps the UIDs changed after `modseq`; returns the
    // ones of `set` expunged after it (for VANISHED (EARLIER), RFC 7162 3.2.6). Pool.
    StoreResult<std::vector<uint32_t>> keep_changed_since(uint64_t modseq, const SequenceSet& set);

    // Appends about `budget` bytes of response to output() (a message's non-literal items
    // may go beyond), or what kRoundTime allows. True when the FETCH is done (or stopped,
    // see below). Pool.
    bool produce(size_t budget);
    std::string& output() { return out_; }

    bool skipped_expunged() const { return skipped_; }
    std::optional<StoreError> error() const { return error_; }  // stopped by the store
    bool unknown_cte() const { return unknown_cte_; }           // stopped: BINARY of an unknown CTE
    uint32_t messages() const { return uint32_t(uids_.size()); }

private:
    struct Piece {
        enum class Kind : uint8_t { text, raw, decoded } kind = Kind::text;
        std::string text;
        uint64_t offset = 0, size = 0;  // raw / decoded: the message octets
        uint64_t skip = 0, len = 0;     // decoded: the decoded octets [skip, skip + len)
        MimeEncoding enc = MimeEncoding::kIdentity;
    };

    bool produce_round(size_t budget);  // produce() without writing pending_
    void load_batch();
    void start_message(uint32_t uid);
    // Builds the pieces of one message; false when it is gone or the FETCH stops.
    bool build(FetchMessage& m, const MessageEntry& e, uint32_t seq, const MessageInfo* info,
               bool seen_now);
    bool add_section(FetchMessage& m, const FetchAttr& a, std::string& text);
    bool add_binary(FetchMessage& m, const FetchAttr& a, std::string& text, bool size_only);
    // The decoded length of message octets [offset, offset + size) and whether it has a NUL.
    bool decoded_size(FetchMessage& m, uint64_t offset, uint64_t size, MimeEncoding enc,
                      uint64_t& total, bool& nul);
    bool fail(StoreError e);  // records e; false
    bool lost(StoreError e);  // a gone message is skipped, anything else fails; false
    void emit(size_t budget);
    void emit_raw(Piece& p, size_t budget);
    void emit_decoded(Piece& p, size_t budget);
    void pad(uint64_t n);
    // `text` goes to the output, or after the queued pieces when there are some; then cleared.
    void push_text(std::string& text);

    std::shared_ptr<Mailbox> box_;
    FetchPlan plan_;
    std::vector<uint32_t> uids_;
    size_t pos_ = 0;        // next message to start
    size_t batch_end_ = 0;  // uids_[pos_, batch_end_) have their batch data
    std::vector<MessageInfo> infos_;
    std::vector<uint32_t> seen_now_;  // \Seen set by this FETCH (ascending)
    std::vector<char> chunk_;
    CacheSlotBatch pending_;  // parsed this round, written when produce() returns
    std::string out_;
    std::string tmp_;

    // The message being written.
    std::optional<FetchMessage> msg_;  // set while its queued pieces are written
    std::string line_;                 // the message's items, reused
    std::vector<Piece> pieces_;
    size_t piece_ = 0;
    uint64_t done_ = 0;     // of pieces_[piece_]: raw octets read (raw, decoded)
    uint64_t emitted_ = 0;  // decoded: octets written; decoded_pos_: octets decoded so far
    uint64_t decoded_pos_ = 0;
    std::unique_ptr<MimeTransferDecoder> decoder_;

    bool skipped_ = false;
    bool unknown_cte_ = false;
    std::optional<StoreError> error_;
};

// "02-Dec-2026 01:02:03 +0000" (RFC 3501 date-time, UTC).
void write_internal_date(std::string& out, int64_t unix_seconds);

}  // namespace postern
