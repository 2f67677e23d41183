// The cache form: round trips for the corpus, and decoding of damaged bytes fails cleanly.

#include <catch2/catch.hpp>

#include "libproto/mime/mime_cache.h"
#include "mime_test_util.h"

using namespace postern;
using namespace postern::mime_test;

TEST_CASE("cache: round trip of every corpus message", "[mime]") {
    for (const char* name : {"nested_multipart", "rfc822_in_multipart", "rfc2231_params",
                             "nul_8bit", "digest", "missing_headers", "header_only"}) {
        DYNAMIC_SECTION(name) {
            MimeMessage m = MimeParser::parse(read_file(corpus_path(std::string(name) + ".eml")));
            std::string blob = mime_cache_encode(m);
            auto back = mime_cache_decode(blob);
            REQUIRE(back);
            CHECK(*back == m);
            CHECK(fetch_items(*back) == fetch_items(m));
            // Every truncation and every single-byte change is refused or decodes to a
            // structure that formats without trouble.
            for (size_t n = 0; n < blob.size(); ++n) {
                CHECK(!mime_cache_decode(std::string_view(blob).substr(0, n)));
            }
            for (size_t i = 0; i < blob.size(); ++i) {
                std::string bad = blob;
                bad[i] = static_cast<char>(bad[i] ^ 0x5a);
                auto r = mime_cache_decode(bad);
                if (r) (void)fetch_items(*r);
            }
        }
    }
}

TEST_CASE("cache: errors by kind", "[mime]") {
    MimeMessage m = MimeParser::parse("Subject: x\r\n\r\nbody\r\n");
    std::string blob = mime_cache_encode(m);
    CHECK(mime_cache_decode("").error() == MimeCacheError::bad_magic);
    CHECK(mime_cache_decode("XX\x01").error() == MimeCacheError::bad_magic);
    std::string v2 = blob;
    v2[2] = 2;
    CHECK(mime_cache_decode(v2).error() == MimeCacheError::bad_version);
    CHECK(mime_cache_decode(blob.substr(0, blob.size() - 1)).error() == MimeCacheError::truncated);
    CHECK(mime_cache_decode(blob + "x").error() == MimeCacheError::invalid);
    // A child outside its parent's body.
    MimeMessage mp = MimeParser::parse(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n");
    mp.parts[1].body_size += 100;
    CHECK(mime_cache_decode(mime_cache_encode(mp)).error() == MimeCacheError::invalid);
    // Nesting beyond the limit.
    MimeMessage deep;
    deep.size = 100;
    deep.parts.resize(kMimeMaxDepth + 2);
    for (uint32_t i = 0; i < deep.parts.size(); ++i) {
        MimePart& p = deep.parts[i];
        p.fields.type = "message";
        p.fields.subtype = "rfc822";
        p.parent = i == 0 ? 0 : i - 1;
        p.body_size = 100;
    }
    deep.parts[0].body_size = 100;
    CHECK(mime_cache_decode(mime_cache_encode(deep)).error() == MimeCacheError::invalid);
}
