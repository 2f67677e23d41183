#pragma once
// Maildir file names: "<stem>[:2,<info>]" where stem is
// "<secs>.M<usec>P<pid>Q<n>.<host>,U=<uid>,S=<size>" for files we deliver. Files from other
// tools may lack U= (they get one at the next refresh or rebuild) or S= (then stat gives it).
// Info letters: D draft, F flagged, R answered, S seen, T deleted; a-z are keyword letters
// (Dovecot's scheme: letter i names keyword i of the folder's dovecot-keywords list,
// maildir_keywords.h); other letters are kept as they are. Dovecot's extension
// ":2,<flags>,<fields>" is understood: what follows a ',' in the info is not flags and is
// kept verbatim.

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
    uint32_t keyword_letters = 0;  // bit i: letter 'a' + i
    std::string other_info;        // info letters we do not interpret, then any ",..." fields
};

// nullopt for names that are not messages ("", ".", "..", names with '/' or NUL).
std::optional<MaildirName> parse_maildir_name(std::string_view name);

// stem + ":2," + the flag, keyword and other letters sorted (ASCII order, as the Maildir spec
// asks), then other_info's ",..." fields if any.
std::string maildir_file_name(std::string_view stem, uint8_t flags, std::string_view other_info,
                              uint32_t keyword_letters = 0);

// A new unique stem for a file we write; uid/size are appended by the caller.
std::string maildir_unique_part();

// "D", "F", "R", "S", "T" letters for the flag bits, in ASCII order.
std::string flags_to_info(uint8_t flags);

// The letters of a keyword_letters mask, "a" to "z".
std::string keyword_letters_to_info(uint32_t letters);
inline constexpr int max_keyword_letters = 26;

}  // namespace postern
