// RFC 2047 words, RFC 2231 values, charsets, and the streaming transfer decoders, each fed
// whole and in every split.

#include <catch2/catch.hpp>

#include "libproto/mime/mime_charset.h"
#include "libproto/mime/mime_encoded_word.h"
#include "libproto/mime/mime_header_fields.h"
#include "libproto/mime/mime_rfc2231.h"
#include "libproto/mime/mime_text.h"
#include "libproto/mime/mime_transfer_decoder.h"

using namespace postern;

namespace {

// Feeds `in` whole, byte by byte and split at every position: all give the same output.
std::string decode_all_ways(MimeEncoding e, std::string_view in, bool* error = nullptr) {
    auto once = [&](size_t split) {
        auto d = mime_make_decoder(e);
        std::string out;
        if (split == 0) {
            for (char c : in) d->feed(std::string_view(&c, 1), out);
        } else {
            d->feed(in.substr(0, split), out);
            d->feed(in.substr(split), out);
        }
        d->finish(out);
        if (error) *error = d->error();
        return out;
    };
    std::string want = once(in.size());
    for (size_t s = 0; s <= in.size(); ++s) CHECK(once(s) == want);
    return want;
}

}  // namespace

TEST_CASE("RFC 2047 encoded words to UTF-8", "[mime]") {
    struct Case {
        const char* label;
        const char* in;
        const char* want;
    };
    const Case cases[] = {
        {"Q latin-1", "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld J\xc3\xb8rn Simonsen"},
        {"B utf-8", "=?utf-8?B?QW5kcsOp?= Pirard", "Andr\xc3\xa9 Pirard"},
        {"space between words dropped",
         "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n "
         "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
         "If you can read this you understand the example."},
        {"space kept next to text", "a =?utf-8?q?b?= c", "a b c"},
        {"character split across words",
         "=?utf-8?B?w6k=?= =?utf-8?Q?=C3?= =?utf-8?Q?=A9?=", "\xc3\xa9\xc3\xa9"},
        {"language suffix", "=?utf-8*en?q?hi?=", "hi"},
        {"unknown charset kept", "=?x-nonsense?q?hi?= there", "=?x-nonsense?q?hi?= there"},
        {"malformed kept", "=?utf-8?x?hi?= =?utf-8?q?a b?=", "=?utf-8?x?hi?= =?utf-8?q?a b?="},
        {"invalid utf-8 replaced", "=?utf-8?q?=FF?=", "\xef\xbf\xbd"},
        {"raw 8-bit outside words sanitized", "caf\xe9", "caf\xef\xbf\xbd"},
        {"unclosed", "=?utf-8?q?abc", "=?utf-8?q?abc"},
    };
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.label) { CHECK(mime_decode_encoded_words(c.in) == c.want); }
    }
}

TEST_CASE("RFC 2231 parameters: continuations, charset and language", "[mime]") {
    auto ps = mime_parse_params(
        "; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20;"
        " title*2=\"isn't it!\"; plain=x; name*1=b; name*0=a; filename*=iso-8859-1''caf%E9");
    REQUIRE(ps.size() == 4);
    CHECK(ps[0] == MimeParam{"plain", "x"});
    CHECK(ps[1].name == "title*");
    MimeParamValue t = mime_param_value(ps[1]);
    CHECK(t.value == "This is even more ***fun*** isn't it!");
    CHECK(t.charset == "us-ascii");
    CHECK(t.language == "en");
    CHECK(ps[2] == MimeParam{"name", "ab"});
    auto f = mime_find_param(ps, "filename");
    REQUIRE(f);
    CHECK(f->value == "caf\xc3\xa9");
    CHECK(!mime_find_param(ps, "missing"));
    // A gap ends the value; a section without *0 is kept as written.
    auto gap = mime_parse_params("; a*0=x; a*2=z; b*1=y");
    REQUIRE(gap.size() == 3);
    CHECK(gap[0] == MimeParam{"a", "x"});
    CHECK(gap[1] == MimeParam{"a*2", "z"});
    CHECK(gap[2] == MimeParam{"b*1", "y"});
    // 2047 words in a quoted file name (common, not standard).
    auto w = mime_find_param(mime_parse_params("; name=\"=?utf-8?q?caf=C3=A9?=.txt\""), "name");
    REQUIRE(w);
    CHECK(w->value == "caf\xc3\xa9.txt");
}

TEST_CASE("charset conversion replaces what is invalid", "[mime]") {
    CHECK(mime_charset_to_utf8("iso-8859-1", "caf\xe9") == "caf\xc3\xa9");
    CHECK(mime_charset_to_utf8("windows-1252", "\x80") == "\xe2\x82\xac");
    CHECK(mime_charset_to_utf8("utf-8", "a\xc0\xafz") == "a\xef\xbf\xbd\xef\xbf\xbdz");
    CHECK(mime_charset_to_utf8("UTF-8", "\xed\xa0\x80") ==
          "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
    CHECK(!mime_charset_to_utf8("no-such-charset", "x"));
    CHECK(!mime_charset_to_utf8("utf-8//TRANSLIT/../x", "x"));
    CHECK(mime_charset_to_utf8("shift_jis", "\x82\xa0") == "\xe3\x81\x82");
    // Streaming: a multibyte sequence split across feeds survives.
    for (const char* cs : {"utf-8", "shift_jis", "utf-16le"}) {
        DYNAMIC_SECTION(cs) {
            std::string in = std::string(cs) == "utf-8"       ? "\xe3\x81\x82\xe3\x81\x84"
                             : std::string(cs) == "shift_jis" ? "\x82\xa0\x82\xa2"
                                                              : std::string("B0D0", 4);
            std::string want = *mime_charset_to_utf8(cs, in);
            for (size_t s = 0; s <= in.size(); ++s) {
                MimeCharsetDecoder d;
                REQUIRE(d.open(cs));
                std::string out;
                d.feed(std::string_view(in).substr(0, s), out);
                d.feed(std::string_view(in).substr(s), out);
                d.finish(out);
                CHECK(out == want);
            }
        }
    }
    MimeCharsetDecoder d;
    REQUIRE(d.open("utf-8"));
    std::string out;
    d.feed("ab\xe3\x81", out);
    d.finish(out);
    CHECK(out == "ab\xef\xbf\xbd");  // truncated at the end
}

TEST_CASE("base64 decoder: line breaks, padding, junk", "[mime]") {
    bool err = false;
    CHECK(decode_all_ways(MimeEncoding::kBase64, "AAECAwQFBgcICQ==\r\n", &err) ==
          std::string("\0\1\2\3\4\5\6\7\x08\x09", 10));
    CHECK(!err);
    CHECK(decode_all_ways(MimeEncoding::kBase64, "aGVs\r\nbG8=", &err) == "hello");
    CHECK(!err);
    CHECK(decode_all_ways(MimeEncoding::kBase64, "aGVsbG8", &err) == "hello");  // no padding
    CHECK(!err);
    CHECK(decode_all_ways(MimeEncoding::kBase64, "aGV*sbG8=", &err) == "hello");
    CHECK(err);
    CHECK(decode_all_ways(MimeEncoding::kBase64, "aGVsbG8=aGVs", &err) == "hello");
    CHECK(err);
    CHECK(decode_all_ways(MimeEncoding::kBase64, "a", &err).empty());
    CHECK(err);
}

TEST_CASE("quoted-printable decoder: soft breaks, trailing space, bad escapes", "[mime]") {
    bool err = false;
    CHECK(decode_all_ways(MimeEncoding::kQuotedPrintable, "caf=C3=A9 =\r\nsoft\r\nhard  \r\n",
                          &err) == "caf\xc3\xa9 soft\r\nhard\r\n");
    CHECK(!err);
    CHECK(decode_all_ways(MimeEncoding::kQuotedPrintable, "lf=\nonly\n", &err) == "lfonly\n");
    CHECK(decode_all_ways(MimeEncoding::kQuotedPrintable, "a=3d=3Db", &err) == "a==b");
    CHECK(!err);
    CHECK(decode_all_ways(MimeEncoding::kQuotedPrintable, "a=zz=", &err) == "a=zz");
    CHECK(err);
    CHECK(decode_all_ways(MimeEncoding::kQuotedPrintable, "=  \r\nx", &err) == "x");
    // A long line without line breaks is decoded as it goes (bounded carry).
    std::string big(20000, 'x');
    big += "=41";
    CHECK(decode_all_ways(MimeEncoding::kQuotedPrintable, big.substr(0, 3000) + "=41") ==
          std::string(3000, 'x') + "A");
    auto d = mime_make_decoder(MimeEncoding::kQuotedPrintable);
    std::string out;
    d->feed(big, out);
    CHECK(out.size() >= 19000);  // most of it out before finish
    d->finish(out);
    CHECK(out == std::string(20000, 'x') + "A");
}

TEST_CASE("text parts to UTF-8 for SEARCH", "[mime]") {
    MimeTextDecoder d("quoted-printable", "iso-8859-1");
    std::string out;
    d.feed("caf=E9 cr=", out);
    d.feed("\r\n=E8me", out);
    d.finish(out);
    CHECK(out == "caf\xc3\xa9 cr\xc3\xa8me");
    MimeTextDecoder b("BASE64", "utf-8");
    out.clear();
    b.feed("w6k", out);
    b.feed("=\r\n", out);
    b.finish(out);
    CHECK(out == "\xc3\xa9");
    MimeTextDecoder unknown("x-uuencode", "x-unknown");
    out.clear();
    unknown.feed("as \xff is", out);
    unknown.finish(out);
    CHECK(out == "as \xef\xbf\xbd is");
}
