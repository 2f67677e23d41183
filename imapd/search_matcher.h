#pragma once
// SEARCH criteria (ImapSearch's SearchKey tree) compiled for matching, and the match itself
// over what is known about one message (pure: no store, no clock). Matching is three-valued
// so the cheap facts decide first: flags, keywords, UID and sequence number come with the
// snapshot; size, internal date and MODSEQ with Mailbox::info(); envelope fields (FROM TO
// CC BCC SUBJECT, HEADER of an envelope field, SENT*) with the MIME cache; other HEADER
// fields and TEXT's header part with the raw header; BODY and TEXT with the decoded body.
// A key whose fact is not loaded yet is `unknown`; the loader (search_loader.h) reads the
// next stage only for messages still unknown, and only stages the criteria need at all.

#include <cstdint>
#include <string>
#include <vector>

#include "libmailstore/store.h"
#include "libproto/imap/imap_search.h"
#include "libproto/mime/mime_part.h"

namespace postern {

enum class Tri : uint8_t { no, yes, unknown };

// Facts a criteria tree needs, as stages.
enum SearchNeeds : uint8_t {
    search_needs_info = 1,    // Mailbox::info: size, internal date, modseq
    search_needs_mime = 2,    // MimeMessage (cache or parse): envelope fields, Date
    search_needs_header = 4,  // raw root header: HEADER of other fields, TEXT
    search_needs_body = 8,    // decoded body: BODY, TEXT
};

struct SearchNode {
    SearchKeyType type = SearchKeyType::all;
    std::string text;   // folded needle (text keys), keyword (KEYWORD), as sent
    std::string field;  // HEADER: lower-cased field name
    uint64_t number = 0;
    ImapDate date;
    SequenceSet set;
    uint32_t slot = 0;  // HEADER (raw): header slot; BODY / TEXT: needle slot
    int envelope = -1;  // HEADER of an envelope field: which (SearchEnvField)
    std::vector<SearchNode> children;
};

// The envelope fields a HEADER key can be answered from without reading the header.
enum SearchEnvField : int8_t {
    env_date,
    env_subject,
    env_from,
    env_sender,
    env_reply_to,
    env_to,
    env_cc,
    env_bcc,
    env_in_reply_to,
    env_message_id,
};

struct SearchPlan {
    SearchNode root;
    uint8_t needs = 0;  // SearchNeeds
    bool has_modseq = false;
    // HEADER keys answered from the raw header: field name (lower-cased) and folded needle.
    std::vector<std::pair<std::string, std::string>> header_keys;
    // BODY / TEXT needles (folded); text_needle[i]: a TEXT key (the header counts too).
    std::vector<std::string> needles;
    std::vector<bool> text_needle;
};

SearchPlan compile_search(const SearchKey& criteria);

// What the session knows about the mailbox while matching.
struct SearchContext {
    uint32_t count = 0;           // messages in the snapshot ("*" of a sequence set)
    uint32_t max_uid = 0;         // the last UID ("*" of a UID set)
    std::vector<uint32_t> saved;  // "$", ascending UIDs (empty when none was saved)
    int64_t now = 0;              // unix seconds, for OLDER / YOUNGER
};

// Facts about one message; null / empty when that stage has not been loaded.
struct SearchFacts {
    uint32_t seq = 0;
    uint32_t uid = 0;
    uint8_t flags = 0;
    const std::vector<std::string>* keywords = nullptr;
    const MessageInfo* info = nullptr;
    const MimeMessage* mime = nullptr;
    const std::vector<bool>* header_hits = nullptr;       // per plan.header_keys
    const std::vector<bool>* text_header_hits = nullptr;  // per needle, from the header
    const std::vector<bool>* body_hits = nullptr;         // per needle, from the body
};

Tri search_match(const SearchPlan& plan, const SearchContext& ctx, const SearchFacts& f);

}  // namespace postern
