#pragma once
// Typed IMAP commands: what ImapParser returns for a complete command (APPEND alone comes as
// a stream of events, see imap_parser.h). One small struct per command; `uid` is set when
// the command came with the UID prefix. Strings are as sent (quoted strings unescaped,
// literals verbatim); mailbox names are still modified UTF-7 (imap_mutf7.h) and "INBOX" is
// upper-cased whatever its case. Flags keep their spelling except system flags, which are
// spelled canonically ("\seen" becomes "\Seen").

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "libproto/imap/imap_command_table.h"
#include "libproto/imap/imap_date.h"
#include "libproto/imap/imap_fetch_attrs.h"
#include "libproto/imap/imap_search.h"
#include "libproto/imap/imap_sequence.h"

namespace postern {

struct ImapCapability {};
struct ImapNoop {};
struct ImapLogout {};
struct ImapStarttls {};
struct ImapAuthenticate {
    std::string mechanism;               // upper-cased
    std::optional<std::string> initial;  // SASL-IR, still base64; "=" gives ""
};
struct ImapLogin {
    std::string user;
    std::string password;  // the parser wipes its own copy of the command
};
struct QresyncParams {
    uint32_t uidvalidity = 0;
    uint64_t modseq = 0;
    std::optional<SequenceSet> known_uids;
    // seq-match-data: known sequence numbers and the UIDs they had.
    std::optional<SequenceSet> known_seqs;
    std::optional<SequenceSet> known_seq_uids;
};
struct ImapSelect {
    std::string mailbox;
    bool examine = false;
    bool condstore = false;
    std::optional<QresyncParams> qresync;
};
struct ImapCreate {
    std::string mailbox;
    std::vector<std::string> special_use;  // CREATE ... (USE (\Drafts ...)), as sent
};
struct ImapDelete {
    std::string mailbox;
};
struct ImapRename {
    std::string from;
    std::string to;
};
struct ImapSubscribe {
    std::string mailbox;
};
struct ImapUnsubscribe {
    std::string mailbox;
};

enum ListSelectBits : uint8_t {
    list_select_subscribed = 1,
    list_select_remote = 2,
    list_select_recursivematch = 4,
    list_select_special_use = 8,
};
enum ListReturnBits : uint8_t {
    list_return_subscribed = 1,
    list_return_children = 2,
    list_return_special_use = 4,
    list_return_status = 8,
};
enum StatusItemBits : uint16_t {
    status_messages = 1,
    status_recent = 2,
    status_uidnext = 4,
    status_uidvalidity = 8,
    status_unseen = 16,
    status_deleted = 32,
    status_size = 64,
    status_highestmodseq = 128,
    status_appendlimit = 256,
};

struct ImapList {
    std::string reference;
    std::vector<std::string> patterns;  // one, or several with LIST-EXTENDED "(...)"
    uint8_t select = 0;                 // ListSelectBits
    uint8_t return_opts = 0;            // ListReturnBits
    uint16_t status_items = 0;          // StatusItemBits of RETURN (STATUS (...))
    bool extended = false;              // selection or return options or a pattern list
};
struct ImapLsub {
    std::string reference;
    std::string pattern;
};
struct ImapStatus {
    std::string mailbox;
    uint16_t items = 0;  // StatusItemBits
};
struct ImapCheck {};
struct ImapClose {};
struct ImapUnselect {};
struct ImapExpunge {
    bool uid = false;
    SequenceSet uids;  // UID EXPUNGE set (RFC 4315)
};
struct ImapSearch {
    bool uid = false;
    std::string charset;      // empty when not given
    bool esearch = false;     // RETURN (...) given: answer with ESEARCH
    uint8_t return_opts = 0;  // SearchReturnBits; RETURN () means ALL
    SearchKey criteria;       // an and_ node
};
struct ImapFetch {
    bool uid = false;
    SequenceSet set;
    std::vector<FetchAttr> attrs;
    std::optional<uint64_t> changedsince;
    bool vanished = false;  // UID FETCH ... (CHANGEDSINCE n VANISHED) only
};
enum class StoreOp : uint8_t { replace, add, remove };
struct ImapStore {
    bool uid = false;
    SequenceSet set;
    std::optional<uint64_t> unchangedsince;
    StoreOp op = StoreOp::replace;
    bool silent = false;
    std::vector<std::string> flags;
};
struct ImapCopy {
    bool uid = false;
    SequenceSet set;
    std::string mailbox;
};
struct ImapMove {
    bool uid = false;
    SequenceSet set;
    std::string mailbox;
};
struct ImapIdle {};
struct ImapNamespace {};
struct ImapEnable {
    std::vector<std::string> capabilities;  // upper-cased
};
struct ImapId {
    // NIL, or field/value pairs (values may be NIL).
    std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> fields;
};
struct ImapGetquota {
    std::string root;
};
struct ImapGetquotaroot {
    std::string mailbox;
};
struct ImapSetquota {
    std::string root;
    std::vector<std::pair<std::string, uint64_t>> limits;  // resource names upper-cased
};
struct ImapCompress {
    std::string mechanism;  // upper-cased ("DEFLATE")
};
struct ImapSort {
    bool uid = false;
    std::vector<SortCriterion> criteria;
    std::string charset;
    SearchKey criteria_keys;  // an and_ node
};
struct ImapThread {
    bool uid = false;
    std::string algorithm;  // upper-cased: ORDEREDSUBJECT, REFERENCES, ...
    std::string charset;
    SearchKey criteria;
};

using ImapArgs =
    std::variant<ImapCapability, ImapNoop, ImapLogout, ImapStarttls, ImapAuthenticate, ImapLogin,
                 ImapSelect, ImapCreate, ImapDelete, ImapRename, ImapSubscribe, ImapUnsubscribe,
                 ImapList, ImapLsub, ImapStatus, ImapCheck, ImapClose, ImapUnselect, ImapExpunge,
                 ImapSearch, ImapFetch, ImapStore, ImapCopy, ImapMove, ImapIdle, ImapNamespace,
                 ImapEnable, ImapId, ImapGetquota, ImapGetquotaroot, ImapSetquota, ImapCompress,
                 ImapSort, ImapThread>;

struct ImapCommand {
    std::string tag;
    ImapCommandId id = ImapCommandId::noop;  // EXAMINE is ImapSelect with examine set
    bool uid = false;                        // came with the UID prefix
    ImapArgs args;
};

}  // namespace postern
