#include "libproto/imap/imap_sequence.h"

#include <catch2/catch.hpp>

#include "libproto/imap/imap_command_table.h"
#include "libproto/imap/imap_lexer.h"

using namespace postern;

namespace {

SequenceSet parse(std::string_view s) {
    SequenceSet set;
    ImapLexer lx(s);
    REQUIRE(parse_sequence_set(lx, set, 100));
    REQUIRE(lx.at_end());
    return set;
}

std::string normalized(const SequenceSet& s, uint32_t max) {
    std::string out;
    for (const SeqRange& r : s.normalized(max))
        out += (out.empty() ? "" : ",") + std::to_string(r.first) + ":" + std::to_string(r.last);
    return out;
}

struct Case {
    const char* label;
    std::string set;
    uint32_t max;
    std::string want;  // normalized
};

}  // namespace

TEST_CASE("imap sequence set: normalized ranges") {
    auto tc = GENERATE(values<Case>({
        {"single", "3", 10, "3:3"},
        {"star", "*", 10, "10:10"},
        {"reversed", "5:2", 10, "2:5"},
        {"star range", "7:*", 10, "7:10"},
        {"star below first (UID set beyond the end)", "20:*", 10, "10:20"},
        {"merge overlapping and adjacent", "1:3,2:5,6,9,8", 10, "1:6,8:9"},
        {"star of empty mailbox", "*", 0, ""},
        {"1:* of empty mailbox", "1:*", 0, "1:1"},
        {"max uint", "4294967295,4294967294", 10, "4294967294:4294967295"},
    }));
    DYNAMIC_SECTION(tc.label) {
        std::string got = normalized(parse(tc.set), tc.max);
        INFO("got " << got << ", want " << tc.want);
        CHECK(got == tc.want);
    }
}

TEST_CASE("imap sequence set: contains, exceeds, $") {
    SequenceSet s = parse("2:4,*");
    CHECK(s.contains(3, 10));
    CHECK(s.contains(10, 10));
    CHECK_FALSE(s.contains(5, 10));
    CHECK_FALSE(s.exceeds(10));
    CHECK(parse("12").exceeds(10));
    SequenceSet d = parse("$");
    CHECK(d.saved);
    CHECK(d.ranges.empty());
    CHECK_FALSE(d.contains(1, 1));

    SequenceSet bad;
    ImapLexer lx("1,2,3");
    CHECK_FALSE(parse_sequence_set(lx, bad, 2));
    CHECK(lx.limit_exceeded());
    ImapLexer lx2("1:");
    CHECK_FALSE(parse_sequence_set(lx2, bad, 10));
    ImapLexer lx3("$");
    CHECK_FALSE(parse_sequence_set(lx3, bad, 10, false));
}

TEST_CASE("imap command table: names, states and flags") {
    using Id = ImapCommandId;
    const ImapCommandSpec* fetch = find_imap_command("fetch");
    REQUIRE(fetch);
    CHECK(fetch->id == Id::fetch);
    CHECK(find_imap_command("FETCHX") == nullptr);
    CHECK(find_imap_command("") == nullptr);
    CHECK(uses_sequence_numbers(Id::fetch, false));
    CHECK_FALSE(uses_sequence_numbers(Id::fetch, true));
    CHECK(uses_sequence_numbers(Id::store, false));
    CHECK(uses_sequence_numbers(Id::search, false));
    CHECK_FALSE(uses_sequence_numbers(Id::noop, false));
    CHECK(allowed_in_state(Id::login, imap_state_not_authenticated));
    CHECK_FALSE(allowed_in_state(Id::login, imap_state_authenticated));
    CHECK(allowed_in_state(Id::fetch, imap_state_selected));
    CHECK_FALSE(allowed_in_state(Id::fetch, imap_state_authenticated));
    CHECK(allowed_in_state(Id::capability, imap_state_not_authenticated));
    CHECK_FALSE(allowed_in_state(Id::noop, imap_state_logout));
    CHECK((imap_command_spec(Id::login).flags & imap_cmd_needs_tls) != 0);
    CHECK((imap_command_spec(Id::expunge).flags & imap_cmd_may_expunge) != 0);
    CHECK((imap_command_spec(Id::move).flags & imap_cmd_may_expunge) != 0);
    CHECK((imap_command_spec(Id::idle).flags & imap_cmd_exclusive) != 0);
    for (Id id :
         {Id::copy, Id::move, Id::fetch, Id::search, Id::store, Id::expunge, Id::sort, Id::thread})
        CHECK((imap_command_spec(id).flags & imap_cmd_uid) != 0);
    CHECK((imap_command_spec(Id::append).flags & imap_cmd_uid) == 0);
    CHECK(imap_command_name(Id::delete_mailbox) == "DELETE");
}
