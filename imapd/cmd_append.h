#pragma once
// APPEND (RFC 3501 6.3.11 / RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID
// (RFC 4315), APPENDLIMIT (RFC 7889) and literal8 (BINARY, RFC 3516). The parser gives
// APPEND as events (imap_parser.h); the session hands them to one ImapAppend, which lives
// from ImapAppendBegin to the tagged reply:
//
//   begin    state gating (as for any command), then one store job: does the folder exist
//            (else NO [TRYCREATE]) and how much room does the quota leave.
//   message  refused before the client sends it (synchronizing literal: no "+"; LITERAL+:
//            the parser reads and drops it) when over the free quota ([OVERQUOTA]), with a
//            bad flag, or past max_messages; APPENDLIMIT itself is the parser's ([TOOBIG]).
//            Otherwise "+ Ready" for a synchronizing literal, and the bytes stream into an
//            AppendSpool (append_spool.h: staged messages written on the pool, bounded).
//   end      once the spool is idle: MailStore::deliver_staged, all messages or none,
//            durable before the tagged OK [APPENDUID uidvalidity uid-set].
//   bad      the parser's ImapBad ends the APPEND (syntax, TOOBIG, a refused literal):
//            nothing is delivered, the staged messages are removed with the spool.
//
// A client that goes away mid-literal destroys the session and so the spool: its staged
// files are removed on the pool and nothing reaches the folder.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/append_spool.h"
#include "imapd/imap_session.h"

namespace postern {

// How an APPEND that the parser ended with an ImapBad is answered.
struct AppendEnding {
    ImapResult status = ImapResult::bad;
    std::string_view code;  // "" or "TOOBIG", "OVERQUOTA", ...
    std::string_view text;
};

class ImapAppend {
public:
    static constexpr size_t max_messages = 1000;  // per MULTIAPPEND

    // `refusal`: the gating said no (wrong state): every literal is refused, then this.
    ImapAppend(ImapSession& s, const ImapAppendBegin& b, std::optional<ImapReply> refusal);

    void on_message(const ImapAppendMessage& m);
    void on_data(std::string_view bytes);
    void on_end();
    AppendEnding on_bad(const ImapBad& b) const;

    // The session must not read on: a store job, a full spool or the commit.
    bool waiting() const { return checking_ || ended_ || spool_.full(); }

private:
    void check_folder();
    void refuse(ImapReply r);
    void on_spool_progress();
    void maybe_commit();

    ImapSession& s_;
    std::string user_;
    std::string folder_;  // the store's name
    std::optional<ImapReply> refusal_;
    AppendSpool spool_;
    std::vector<StagedItem> items_;  // flags, keywords, date; msg set at commit
    uint64_t room_ = UINT64_MAX;     // the quota's room at begin
    uint64_t accepted_ = 0;          // octets of the messages taken so far
    uint64_t left_ = 0;              // of the current message
    bool binary_ = false;
    bool nul_ = false;  // a NUL in a literal that is not literal8
    bool checking_ = false;
    bool ended_ = false;
    bool committing_ = false;
};

}  // namespace postern
