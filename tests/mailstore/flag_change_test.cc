// apply_flag_change (libmailstore/flag_change.h), the STORE arithmetic of both backends.
#include <catch2/catch.hpp>

#include "libmailstore/flag_change.h"

using namespace postern;

namespace {

using Words = std::vector<std::string>;

struct Case {
    const char* label;
    uint8_t flags;
    Words keywords;
    FlagChange change;
    bool want_changed;
    uint8_t want_flags;
    Words want_keywords;
};

}  // namespace

TEST_CASE("apply_flag_change", "[flags]") {
    auto c = GENERATE(values<Case>({
        {"add a flag",
         flag_seen,
         {},
         {FlagOp::add, flag_flagged, {}},
         true,
         flag_seen | flag_flagged,
         {}},
        {"add what is there",
         flag_seen,
         {"Work"},
         {FlagOp::add, flag_seen, {"WORK"}},
         false,
         flag_seen,
         {"Work"}},
        {"add keeps the first case, drops empty and repeated ones",
         0,
         {"$Label"},
         {FlagOp::add, 0, {"$LABEL", "", "Home", "home"}},
         true,
         0,
         {"$Label", "Home"}},
        {"remove case-insensitively",
         flag_seen | flag_deleted,
         {"$Label", "Work"},
         {FlagOp::remove, flag_deleted, {"$label"}},
         true,
         flag_seen,
         {"Work"}},
        {"remove what is not there",
         flag_seen,
         {"Work"},
         {FlagOp::remove, flag_draft, {"x"}},
         false,
         flag_seen,
         {"Work"}},
        {"set replaces both",
         flag_seen,
         {"Old"},
         {FlagOp::set, flag_answered, {"A", "a", "B"}},
         true,
         flag_answered,
         {"A", "B"}},
        {"set to the same",
         flag_seen,
         {"A"},
         {FlagOp::set, flag_seen, {"A"}},
         false,
         flag_seen,
         {"A"}},
        {"bits outside all_flags are ignored",
         0,
         {},
         {FlagOp::add, uint8_t(0xe0), {}},
         false,
         0,
         {}},
        {"set ignores them too",
         flag_seen,
         {},
         {FlagOp::set, uint8_t(0xe0 | flag_seen), {}},
         false,
         flag_seen,
         {}},
    }));
    DYNAMIC_SECTION(c.label) {
        uint8_t flags = c.flags;
        Words kw = c.keywords;
        CHECK(apply_flag_change(flags, kw, c.change) == c.want_changed);
        CHECK(int(flags) == int(c.want_flags));
        CHECK(kw == c.want_keywords);
    }
}

TEST_CASE("has_keyword and add_keywords compare case-insensitively", "[flags]") {
    Words kw{"$Junk"};
    CHECK(has_keyword(kw, "$JUNK"));
    CHECK_FALSE(has_keyword(kw, "Junk"));
    add_keywords(kw, {"$junk", "Work", "", "WORK"});
    CHECK(kw == (Words{"$Junk", "Work"}));
}
