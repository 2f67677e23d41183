// libproto/mta_sts/sts_cache_file.h: the persisted cache's lines round-trip; bad lines are
// skipped, the good ones kept.
#include <catch2/catch.hpp>

#include "libproto/mta_sts/sts_cache_file.h"

using namespace postern;

namespace {
StsCacheEntry entry(const std::string& domain, const std::string& id, int64_t fetched,
                    const std::string& body) {
    StsCacheEntry e;
    e.domain = domain;
    e.id = id;
    e.fetched = fetched;
    e.body = body;
    e.policy = *parse_sts_policy(body);
    return e;
}
const std::string kBody = "version: STSv1\r\nmode: enforce\r\nmx: *.a.test\r\nmax_age: 600\r\n";
}  // namespace

TEST_CASE("mta_sts cache file: round trip") {
    std::vector<StsCacheEntry> in = {
        entry("a.test", "id1", 1700000000, kBody),
        entry("b.test", "X2", 5, "version: STSv1\nmode: none\nmax_age: 1")};
    auto text = format_sts_cache(in);
    auto out = parse_sts_cache(text);
    REQUIRE(out.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(out[i].domain == in[i].domain);
        CHECK(out[i].id == in[i].id);
        CHECK(out[i].fetched == in[i].fetched);
        CHECK(out[i].body == in[i].body);
        CHECK(out[i].policy == in[i].policy);
    }
    CHECK(out[0].expires() == 1700000600);
}

TEST_CASE("mta_sts cache file: bad lines are skipped") {
    const std::string good = format_sts_cache({entry("a.test", "id1", 10, kBody)});
    auto tc = GENERATE(as<std::string>{}, "", "garbage\n", "sts2 a.test id1 10 AAAA\n",
                       "sts1 a.test id-1 10 AAAA\n", "sts1 a.test id1 -10 AAAA\n",
                       "sts1 a.test id1 10x AAAA\n", "sts1 a.test id1 10 !!!!\n",
                       "sts1 a.test id1 10 dmVyc2lvbjogU1RTdjE=\n",  // "version: STSv1" only
                       "sts1 a.test id1 10 AAAA extra\n", "sts1  id1 10 AAAA\n");
    DYNAMIC_SECTION("[" << tc << "]") {
        auto out = parse_sts_cache(tc + good + tc);
        REQUIRE(out.size() == 1);
        CHECK(out[0].domain == "a.test");
        // A torn last line (no newline) is dropped, not misread.
        CHECK(parse_sts_cache(good.substr(0, good.size() - 1)).empty());
    }
}
