#include "libproto/smtp/smtp_command.h"

#include <catch2/catch.hpp>

using namespace postern;

TEST_CASE("smtp_command: valid commands parse to the right verb and fields") {
    struct Case {
        const char* label;
        const char* line;
        SmtpVerb verb;
        const char* arg;
        const char* path;
    };
    auto tc = GENERATE(values<Case>({
        {"ehlo", "EHLO client.example", SmtpVerb::ehlo, "client.example", ""},
        {"ehlo lower", "ehlo client.example", SmtpVerb::ehlo, "client.example", ""},
        {"helo literal", "HELO [192.0.2.1]", SmtpVerb::helo, "[192.0.2.1]", ""},
        {"mail", "MAIL FROM:<a@b.example>", SmtpVerb::mail, "", "a@b.example"},
        {"mail null", "MAIL FROM:<>", SmtpVerb::mail, "", ""},
        {"mail lenient space", "mail from: <a@b.example>", SmtpVerb::mail, "", "a@b.example"},
        {"mail quoted", "MAIL FROM:<\"a >b\"@x.example>", SmtpVerb::mail, "", "\"a >b\"@x.example"},
        {"rcpt", "RCPT TO:<u@d.example>", SmtpVerb::rcpt, "", "u@d.example"},
        {"rcpt postmaster", "RCPT TO:<Postmaster>", SmtpVerb::rcpt, "", "Postmaster"},
        {"data", "DATA", SmtpVerb::data, "", ""},
        {"rset", "RSET", SmtpVerb::rset, "", ""},
        {"noop arg", "NOOP hello", SmtpVerb::noop, "hello", ""},
        {"quit", "QUIT", SmtpVerb::quit, "", ""},
        {"vrfy", "VRFY alice", SmtpVerb::vrfy, "alice", ""},
        {"help", "HELP", SmtpVerb::help, "", ""},
        {"starttls", "STARTTLS", SmtpVerb::starttls, "", ""},
        {"auth", "AUTH plain", SmtpVerb::auth, "PLAIN", ""},
        {"bdat", "BDAT 100", SmtpVerb::bdat, "", ""},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto c = parse_smtp_command(tc.line);
        INFO("line: " << tc.line << (c ? "" : " got error: " + c.error().detail));
        REQUIRE(c.has_value());
        CHECK(c->verb == tc.verb);
        CHECK(c->arg == tc.arg);
        CHECK(c->path == tc.path);
    }
}

TEST_CASE("smtp_command: syntax errors map to the right class") {
    struct Case {
        const char* label;
        const char* line;
        SmtpSyntax want;
    };
    auto tc = GENERATE(values<Case>({
        {"unknown", "FOO bar", SmtpSyntax::unknown_command},
        {"empty", "", SmtpSyntax::unknown_command},
        {"verb prefix only", "MAILX FROM:<a@b>", SmtpSyntax::unknown_command},
        {"ehlo no arg", "EHLO", SmtpSyntax::bad_syntax},
        {"mail no colon", "MAIL FROM <a@b>", SmtpSyntax::bad_syntax},
        {"mail no brackets", "MAIL FROM:a@b", SmtpSyntax::bad_syntax},
        {"mail unterminated", "MAIL FROM:<a@b", SmtpSyntax::bad_syntax},
        {"mail junk after path", "MAIL FROM:<a@b>x", SmtpSyntax::bad_syntax},
        {"rcpt wrong kw", "RCPT FROM:<a@b>", SmtpSyntax::bad_syntax},
        {"unknown param", "MAIL FROM:<a@b> FOO=1", SmtpSyntax::bad_parameter},
        {"binarymime", "MAIL FROM:<a@b> BODY=BINARYMIME", SmtpSyntax::bad_parameter},
        {"size letters", "MAIL FROM:<a@b> SIZE=12k", SmtpSyntax::bad_parameter_value},
        {"size empty", "MAIL FROM:<a@b> SIZE=", SmtpSyntax::bad_parameter_value},
        {"size twice", "MAIL FROM:<a@b> SIZE=1 SIZE=2", SmtpSyntax::bad_parameter_value},
        {"smtputf8 value", "MAIL FROM:<a@b> SMTPUTF8=yes", SmtpSyntax::bad_parameter_value},
        {"requiretls value", "MAIL FROM:<a@b> REQUIRETLS=yes", SmtpSyntax::bad_parameter_value},
        {"requiretls twice", "MAIL FROM:<a@b> REQUIRETLS REQUIRETLS",
         SmtpSyntax::bad_parameter_value},
        {"ret bad", "MAIL FROM:<a@b> RET=ALL", SmtpSyntax::bad_parameter_value},
        {"envid bad xtext", "MAIL FROM:<a@b> ENVID=ab+zz", SmtpSyntax::bad_parameter_value},
        {"envid lower hex", "MAIL FROM:<a@b> ENVID=ab+2b", SmtpSyntax::bad_parameter_value},
        {"envid cut escape", "MAIL FROM:<a@b> ENVID=ab+2", SmtpSyntax::bad_parameter_value},
        {"notify never+success", "RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS",
         SmtpSyntax::bad_parameter_value},
        {"notify unknown", "RCPT TO:<a@b> NOTIFY=SOMETIMES", SmtpSyntax::bad_parameter_value},
        {"notify dup", "RCPT TO:<a@b> NOTIFY=DELAY,DELAY", SmtpSyntax::bad_parameter_value},
        {"orcpt no type", "RCPT TO:<a@b> ORCPT=a@b", SmtpSyntax::bad_parameter_value},
        {"orcpt empty", "RCPT TO:<a@b> ORCPT=rfc822;", SmtpSyntax::bad_parameter_value},
        {"rcpt mail param", "RCPT TO:<a@b> SIZE=10", SmtpSyntax::bad_parameter},
        {"data arg", "DATA now", SmtpSyntax::bad_syntax},
        {"rset arg", "RSET x", SmtpSyntax::bad_syntax},
        {"starttls arg", "STARTTLS x", SmtpSyntax::bad_syntax},
        {"bdat no size", "BDAT", SmtpSyntax::bad_syntax},
        {"bdat bad size", "BDAT -1", SmtpSyntax::bad_syntax},
        {"bdat bad last", "BDAT 10 FIRST", SmtpSyntax::bad_syntax},
        {"vrfy empty", "VRFY", SmtpSyntax::bad_syntax},
        {"auth no mech", "AUTH", SmtpSyntax::bad_syntax},
        {"auth bad mech", "AUTH PL@IN", SmtpSyntax::bad_syntax},
        {"param with ctl", "MAIL FROM:<a@b> BODY=8BIT\x01MIME", SmtpSyntax::bad_parameter_value},
    }));
    DYNAMIC_SECTION(tc.label) {
        auto c = parse_smtp_command(tc.line);
        INFO("line: " << tc.line);
        REQUIRE_FALSE(c.has_value());
        INFO("got kind " << int(c.error().kind) << " (" << c.error().detail << "), want "
                         << int(tc.want));
        CHECK(c.error().kind == tc.want);
        CHECK(c.error().detail.find_first_of("\r\n") == std::string::npos);
    }
}

TEST_CASE("smtp_command: MAIL parameters") {
    auto c = parse_smtp_command(
        "MAIL FROM:<a@b.example> size=12345 BODY=8bitmime SMTPUTF8 RET=HDRS ENVID=QQ+2BZ AUTH=<>");
    REQUIRE(c.has_value());
    CHECK(c->mail.size == 12345u);
    CHECK(c->mail.body == SmtpBody::eight_bit_mime);
    CHECK(c->mail.smtputf8);
    CHECK(c->mail.ret == SmtpDsnRet::hdrs);
    CHECK(c->mail.envid == "QQ+Z");
    CHECK(c->mail.auth == "<>");
    CHECK_FALSE(c->mail.requiretls);
    auto rt = parse_smtp_command("MAIL FROM:<a@b.example> requiretls");
    REQUIRE(rt.has_value());
    CHECK(rt->mail.requiretls);

    auto huge = parse_smtp_command("MAIL FROM:<> SIZE=99999999999999999999999999");
    REQUIRE(huge.has_value());
    CHECK(huge->mail.size == UINT64_MAX);

    auto seven = parse_smtp_command("MAIL FROM:<> BODY=7BIT");
    REQUIRE(seven.has_value());
    CHECK(seven->mail.body == SmtpBody::seven_bit);
}

TEST_CASE("smtp_command: RCPT DSN parameters") {
    auto c = parse_smtp_command(
        "RCPT TO:<u@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40d.example");
    REQUIRE(c.has_value());
    CHECK(c->rcpt.notify == (notify_success | notify_failure));
    CHECK(c->rcpt.orcpt_type == "rfc822");
    CHECK(c->rcpt.orcpt == "u@d.example");

    auto never = parse_smtp_command("RCPT TO:<u@d.example> NOTIFY=never");
    REQUIRE(never.has_value());
    CHECK(never->rcpt.notify == notify_never);
}

TEST_CASE("smtp_command: BDAT and AUTH arguments") {
    auto b = parse_smtp_command("BDAT 4096 LAST");
    REQUIRE(b.has_value());
    CHECK(b->chunk_size == 4096u);
    CHECK(b->last);
    auto b0 = parse_smtp_command("bdat 0 last");
    REQUIRE(b0.has_value());
    CHECK(b0->chunk_size == 0u);
    CHECK(b0->last);

    auto a = parse_smtp_command("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    REQUIRE(a.has_value());
    CHECK(a->arg == "PLAIN");
    CHECK(a->auth_initial == "AGFsaWNlAHNlY3JldA==");
    auto eq = parse_smtp_command("AUTH PLAIN =");
    REQUIRE(eq.has_value());
    CHECK(eq->auth_initial == "=");
}

TEST_CASE("smtp_command: the command table gates by phase") {
    CHECK((smtp_command_spec(SmtpVerb::mail).phases & phase_fresh) == 0);
    CHECK((smtp_command_spec(SmtpVerb::mail).phases & phase_ready) != 0);
    CHECK((smtp_command_spec(SmtpVerb::rcpt).phases & phase_ready) == 0);
    CHECK((smtp_command_spec(SmtpVerb::data).phases & phase_mail) == 0);
    CHECK((smtp_command_spec(SmtpVerb::data).phases & phase_rcpt) != 0);
    CHECK((smtp_command_spec(SmtpVerb::rset).flags & cmd_pipelinable) != 0);
    CHECK((smtp_command_spec(SmtpVerb::ehlo).flags & cmd_pipelinable) == 0);
    CHECK(smtp_command_spec(SmtpVerb::unknown).verb == SmtpVerb::unknown);
}

TEST_CASE("smtp_command: xtext") {
    CHECK(xtext_decode("abc") == "abc");
    CHECK(xtext_decode("a+2Bb") == "a+b");
    CHECK(xtext_decode("") == "");
    CHECK_FALSE(xtext_decode("a b").has_value());
    CHECK_FALSE(xtext_decode("a=b").has_value());
    CHECK_FALSE(xtext_decode("+").has_value());
    CHECK_FALSE(xtext_decode("+4").has_value());
}
