#pragma once
// A folder's keyword list, Dovecot's `dovecot-keywords` file in the folder's directory (Maildir/
// for INBOX, Maildir/.A.B/ for "A/B"): lines "<index> <name>", index 0-25 standing for the
// letters a-z in the ":2," info of the folder's file names. With it a message's keywords are
// in its file name, so they survive the loss of the index (a rebuild reads them back), and a
// site coming from Dovecot keeps its keywords (and Dovecot can read ours).
//
// Only 26 keywords per folder get a letter; the others stay index-only (lost with the index).
// Names are case-insensitive, as IMAP keywords are. An index, once given, keeps its name
// (entries are never removed or renamed), so a letter in a file name always means what the
// list says. The list is written whole to a temporary file, fsynced and renamed over the old
// one (the folder directory is fsynced too), before any file name carries a new letter; the
// store writes it only under the user's index write transaction, which serializes writers.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/maildir_layout.h"
#include "libmailstore/store_error.h"

namespace postern {

class KeywordList {
public:
    static constexpr const char* file_name = "dovecot-keywords";

    // The list in folder_dir (a missing file is an empty list). temporary when unreadable.
    static StoreResult<KeywordList> load(const fs::path& folder_dir);
    // Parses the file's text as Dovecot does: lines without a space, with an index that is
    // not a number below 26, or with an empty name are skipped; a later line for the same
    // index wins.
    static KeywordList parse(std::string_view text);
    std::string serialize() const;  // "<index> <name>\n" in index order

    // The index of a name (case-insensitive), or -1.
    int find(std::string_view name) const;
    // The name at an index ("" when none).
    const std::string& name_at(int index) const;
    // The index of a name, given the first free one when it has none yet; -1 when all 26
    // are taken or the name cannot be written in the file (empty, or with control
    // characters): the keyword is then index-only.
    int assign(std::string_view name);

    // The letters of those keywords that have an index (assigning new ones first when
    // `assign`).
    uint32_t letters_for(const std::vector<std::string>& keywords, bool assign);
    // A message's keywords from the letters of its file name: `previous` (the index record's,
    // if any) in order, less those whose letter the name lacks, then the names of the other
    // letters. A letter without a name (its list lost) gets the name "unknown-<index>" as
    // Dovecot would, so the letter and the keyword agree from then on.
    std::vector<std::string> keywords_for(uint32_t letters,
                                          const std::vector<std::string>& previous);

    bool changed() const { return changed_; }
    // Writes the list to folder_dir if it changed since it was loaded or saved.
    StoreResult<void> save(const fs::path& folder_dir);

private:
    std::array<std::string, 26> names_;
    bool changed_ = false;
};

}  // namespace postern
