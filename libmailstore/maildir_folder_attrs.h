#pragma once
// Folder attributes the Maildir store keeps beside the folders, never only in the index (a
// rebuildable cache), as two small files in the Maildir++ root:
//   subscriptions        one subscribed name per line, as Dovecot and Courier keep it there:
//                        '.' between the levels ("Archive.2024"), INBOX as "INBOX", no
//                        "INBOX." prefix. Dovecot's later form (a "V\t2" header, levels
//                        separated by tabs, tab-escaped) is read too, and kept when found.
//                        So a site coming from Dovecot keeps its subscriptions.
//   postern-special-use  "<attr> <folder>" lines with RFC 6154 names, e.g. "\Sent Sent",
//                        "\Archive Archive/2024" (folder names as in store.h).
// Each change replaces the whole file (tmp file, fsync, rename, fsync of the directory)
// under an exclusive flock of the Maildir directory, so changes made at once by several
// processes are never lost. Lines this code does not understand are kept as they are.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/maildir_layout.h"

namespace postern {

constexpr uint8_t all_special_uses = 0x7f;  // every SpecialUse bit (store.h)

struct SubscriptionList {
    int version = 1;                       // 1: plain lines; 2: Dovecot's "V\t2" form
    std::vector<std::string> names;        // canonical folder names (store.h), file order
    std::vector<std::string> other_lines;  // lines that are no folder name of ours, kept
};
SubscriptionList parse_subscriptions(std::string_view text);
std::string format_subscriptions(const SubscriptionList& s);

struct SpecialUseTable {
    std::map<std::string, uint8_t> uses;   // canonical folder -> SpecialUse bits (never 0)
    std::vector<std::string> other_lines;  // unknown attributes, bad names: kept
};
SpecialUseTable parse_special_use(std::string_view text);
std::string format_special_use(const SpecialUseTable& t);

// The files' contents (empty when the file is not there).
StoreResult<SubscriptionList> read_subscriptions(const fs::path& maildir);
StoreResult<SpecialUseTable> read_special_use(const fs::path& maildir);

// Sets a folder's special-use bits (0 removes them); the file is written only on a change.
StoreResult<void> write_special_use(const fs::path& maildir, const std::string& folder,
                                    uint8_t special_use);
// The same for several folders in one write (folder -> bits).
StoreResult<void> write_special_uses(const fs::path& maildir,
                                     const std::map<std::string, uint8_t>& uses);
// A renamed folder's attributes, and its subfolders', go to the new names.
StoreResult<void> rename_special_use(const fs::path& maildir, const std::string& from,
                                     const std::string& to);
// Adds (or removes) a name; written only on a change.
StoreResult<void> write_subscribed(const fs::path& maildir, const std::string& folder,
                                   bool subscribed);

}  // namespace postern
