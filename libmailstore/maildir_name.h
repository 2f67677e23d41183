#pragma once
// Maildir file names: "<stem>[:2,<info>]" where stem is
// "<secs>.M<usec>P<pid>Q<n>.<host>,U=<uid>,S=<size>" for files we deliver. Files from other
// tools may lack U= (they get one at the next refresh or rebuild) or S= (then stat gives it).
// Info letters: D draft, F flagged, R answered, S seen, T deleted; other letters (e.g.
// Dovecot's lowercase keyword letters) are kept as they are.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

struct MaildirName {
    std::string stem;              // everything before ":2," (unique part plus ,U= ,S= fields)
    uint32_t uid = 0;              // from ",U=", 0 when absent or malformed
    std::optional<uint64_t> size;  // from ",S="
    uint8_t flags = 0;             // standard flags from the info
    std::string other_info;        // info letters we do not interpret
};

// nullopt for names that are not messages ("", ".", "..", names with '/' or NUL).
std::optional<MaildirName> parse_maildir_name(std::string_view name);

// stem + ":2," + sorted info letters.
std::string maildir_file_name(std::string_view stem, uint8_t flags, std::string_view other_info);

// A new unique stem for a file we write; uid/size are appended by the caller.
std::string maildir_unique_part();

// "D", "F", "R", "S", "T" letters for the flag bits, in ASCII order.
std::string flags_to_info(uint8_t flags);

}  // namespace postern
