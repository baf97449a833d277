// Unit tests for src/control/request_lines: the control socket's framing (lines of bounded
// length) and its UTF-8 check, the two things every request passes before JSON parsing.
#include <doctest/doctest.h>

#include <string>

#include "control/request_lines.hpp"

using sluice::control::invalid_utf8_offset;
using sluice::control::request_lines;
using status = request_lines::status;

namespace {
constexpr size_t npos = std::string_view::npos;

size_t offset_of(const char* bytes) {
    return invalid_utf8_offset(bytes);
}
}  // namespace

TEST_CASE("valid UTF-8 passes: ASCII, 2-, 3- and 4-byte forms at the edges of their ranges") {
    CHECK(offset_of("") == npos);
    CHECK(offset_of("{\"cmd\":\"show_vips\"}") == npos);
    CHECK(offset_of("\xC2\x80 \xDF\xBF") == npos);                       // U+0080, U+07FF
    CHECK(offset_of("\xE0\xA0\x80 \xED\x9F\xBF \xEF\xBF\xBF") == npos);  // U+0800, U+D7FF, U+FFFF
    CHECK(offset_of("\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF") == npos);       // U+10000, U+10FFFF
    CHECK(offset_of("caf\xC3\xA9") == npos);
}

TEST_CASE("invalid UTF-8 is found at its first bad byte") {
    CHECK(offset_of("\xFF") == 0);              // the fuzzer's byte
    CHECK(offset_of("ab\x80") == 2);            // lone continuation
    CHECK(offset_of("\xC0\xAF") == 0);          // overlong '/'
    CHECK(offset_of("\xC1\xBF") == 0);          // overlong
    CHECK(offset_of("x\xE0\x9F\xBF") == 1);     // overlong 3-byte
    CHECK(offset_of("\xED\xA0\x80") == 0);      // surrogate U+D800
    CHECK(offset_of("\xF0\x8F\xBF\xBF") == 0);  // overlong 4-byte
    CHECK(offset_of("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
    CHECK(offset_of("\xF5\x80\x80\x80") == 0);
    CHECK(offset_of("ok\xC3") == 2);                                  // truncated at the end
    CHECK(offset_of("\xE2\x82x") == 0);                               // truncated inside
    CHECK(invalid_utf8_offset(std::string_view("a\0b", 3)) == npos);  // NUL is valid UTF-8
}

TEST_CASE("lines are cut at newlines, whatever the chunks they arrive in") {
    request_lines in(64);
    std::string line;
    CHECK(in.wants_more());
    CHECK(in.next(line) == status::incomplete);
    in.append("{\"cmd\":");
    CHECK(in.next(line) == status::incomplete);
    in.append("1}\n{\"cmd\":2}\n{\"cm");
    CHECK_FALSE(in.wants_more());  // a complete line waits: read no more
    REQUIRE(in.next(line) == status::line);
    CHECK(line == "{\"cmd\":1}");
    REQUIRE(in.next(line) == status::line);
    CHECK(line == "{\"cmd\":2}");
    CHECK(in.next(line) == status::incomplete);
    CHECK(in.wants_more());
    CHECK(in.pending_bytes() == 4);
    in.append("d\":3}\n\n");
    REQUIRE(in.next(line) == status::line);
    CHECK(line == "{\"cmd\":3}");
    REQUIRE(in.next(line) == status::line);
    CHECK(line.empty());
}

TEST_CASE("a line is at most the limit, newline included; longer is too_long, never buffered on") {
    request_lines in(8);
    std::string line;
    in.append("1234567\n");  // exactly 8 bytes with its newline
    REQUIRE(in.next(line) == status::line);
    CHECK(line == "1234567");
    in.append("12345678\n");  // 9: too long even though the newline came with it
    CHECK(in.next(line) == status::too_long);

    request_lines endless(8);
    endless.append("1234567");
    CHECK(endless.wants_more());
    CHECK(endless.next(line) == status::incomplete);
    endless.append("8");  // 8 bytes and no newline yet: can no longer fit
    CHECK_FALSE(endless.wants_more());
    CHECK(endless.next(line) == status::too_long);
}
