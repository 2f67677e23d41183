// BODY[section] resolution and the HEADER.FIELDS filter.

#include <catch2/catch.hpp>

#include "libproto/imap/imap_section.h"
#include "mime_test_util.h"

using namespace postern;
using namespace postern::mime_test;

namespace {

std::string resolve(const MimeMessage& m, std::string_view msg, std::vector<uint32_t> part,
                    SectionText text, std::vector<std::string> fields = {}) {
    BodySection s{std::move(part), text, std::move(fields)};
    auto r = imap_resolve_section(m, s);
    if (!r)
        return r.error() == ImapSectionError::no_such_part ? "<no such part>" : "<not a message>";
    std::string_view bytes = msg.substr(r->offset, r->size);
    if (!r->filter) return std::string(bytes);
    ImapHeaderFilter f(s.fields, r->filter_exclude);
    std::string out;
    for (char c : bytes) f.feed(std::string_view(&c, 1), out);  // byte by byte
    f.finish(out);
    return out;
}

}  // namespace

TEST_CASE("sections of a multipart with an encapsulated message", "[mime][imap]") {
    std::string msg = read_file(corpus_path("rfc822_in_multipart.eml"));
    MimeMessage m = MimeParser::parse(msg);
    using T = SectionText;
    CHECK(resolve(m, msg, {}, T::none) == msg);
    CHECK(resolve(m, msg, {}, T::header).starts_with("From: Alice"));
    CHECK(resolve(m, msg, {}, T::header).ends_with("Content-Language: en\r\n\r\n"));
    CHECK(resolve(m, msg, {}, T::text).starts_with("--b1\r\n"));
    CHECK(resolve(m, msg, {1}, T::none) == "See attached.");
    CHECK(resolve(m, msg, {1}, T::mime) == "Content-Type: text/plain\r\n\r\n");
    CHECK(resolve(m, msg, {2}, T::mime) ==
          "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n");
    CHECK(resolve(m, msg, {2}, T::none).starts_with("From: Carol"));
    CHECK(resolve(m, msg, {2}, T::header).starts_with("From: Carol"));
    CHECK(resolve(m, msg, {2}, T::header).ends_with("boundary=\"b2\"\r\n\r\n"));
    CHECK(resolve(m, msg, {2}, T::text).starts_with("--b2\r\n"));
    CHECK(resolve(m, msg, {2, 1}, T::none) == "inner text");
    CHECK(resolve(m, msg, {2, 2}, T::none) == "<bold>inner</bold>");
    CHECK(resolve(m, msg, {2, 2}, T::mime) == "Content-Type: text/enriched\r\n\r\n");
    CHECK(resolve(m, msg, {2, 3}, T::none) == "<no such part>");
    CHECK(resolve(m, msg, {3}, T::none) == "<no such part>");
    CHECK(resolve(m, msg, {0}, T::none) == "<no such part>");
    CHECK(resolve(m, msg, {1}, T::header) == "<not a message>");
    CHECK(resolve(m, msg, {}, T::mime) == "<not a message>");
    CHECK(resolve(m, msg, {2}, T::header_fields, {"subject", "REPLY-TO"}) ==
          "Reply-To: replies@example.net\r\nSubject: inner\r\n\r\n");
    CHECK(resolve(m, msg, {}, T::header_fields, {"x-none"}) == "\r\n");
}

TEST_CASE("sections of a single-part message: part 1 is the body", "[mime][imap]") {
    std::string msg = "Subject: s\r\nX-Long: a\r\n b\r\n\tc\r\nTo: t@x\r\n\r\nbody\r\n";
    MimeMessage m = MimeParser::parse(msg);
    using T = SectionText;
    CHECK(resolve(m, msg, {1}, T::none) == "body\r\n");
    CHECK(resolve(m, msg, {1}, T::mime) ==
          "Subject: s\r\nX-Long: a\r\n b\r\n\tc\r\nTo: t@x\r\n\r\n");
    CHECK(resolve(m, msg, {2}, T::none) == "<no such part>");
    CHECK(resolve(m, msg, {}, T::text) == "body\r\n");
    CHECK(resolve(m, msg, {}, T::header_fields, {"x-long"}) == "X-Long: a\r\n b\r\n\tc\r\n\r\n");
    CHECK(resolve(m, msg, {}, T::header_fields_not, {"X-LONG"}) == "Subject: s\r\nTo: t@x\r\n\r\n");
    // A header without an empty line still ends with one.
    std::string h = "Subject: s\r\nTo: t";
    MimeMessage hm = MimeParser::parse(h);
    CHECK(resolve(hm, h, {}, T::header_fields, {"to"}) == "To: t\r\n\r\n");
}
