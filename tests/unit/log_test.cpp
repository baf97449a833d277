// Unit tests for src/common/log: the level filter drops exactly the messages below the minimum,
// the rate limiter writes at most a burst per format string per interval and accounts for every
// suppressed message, and the journal is chosen only when JOURNAL_STREAM names stderr itself.
// journald is not running where these tests run (no /run/systemd/journal/socket), so the journal
// path is checked as the record it would send and the fallback to stderr.
#include "common/log.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace lg = sluice::log;

namespace {

// Redirects fd 2 into a temporary file for the test's lifetime.
class stderr_capture {
public:
    stderr_capture() {
        fflush(stderr);
        file_ = tmpfile();
        saved_ = dup(STDERR_FILENO);
        dup2(fileno(file_), STDERR_FILENO);
    }
    ~stderr_capture() {
        fflush(stderr);
        dup2(saved_, STDERR_FILENO);
        close(saved_);
        fclose(file_);
    }
    std::string text() const {
        fflush(stderr);
        std::string out;
        char buf[4096];
        size_t n;
        rewind(file_);
        while ((n = fread(buf, 1, sizeof buf, file_)) > 0) out.append(buf, n);
        return out;
    }
    struct stat st() const {
        struct stat s {};
        fstat(STDERR_FILENO, &s);
        return s;
    }

private:
    FILE* file_ = nullptr;
    int saved_ = -1;
};

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// Back to the defaults each test starts from.
void reset() {
    lg::set_min_level(lg::level::info);
    lg::set_sink(lg::sink::stderr_text);
    lg::set_rate_limit(lg::default_burst, lg::default_interval_ns);
}

void log_at(lg::level l, int i) {
    lg::write(l, "level test message %d", i);
}

}  // namespace

TEST_CASE("the level filter writes exactly the messages at or above the minimum level") {
    // Property: for each minimum, the levels below it write nothing and the others one line each.
    reset();
    const lg::level all[] = {lg::level::debug, lg::level::info, lg::level::warn, lg::level::error};
    for (lg::level min : all) {
        CAPTURE(lg::level_name(min));
        stderr_capture cap;
        lg::set_min_level(min);
        for (int i = 0; i < 4; ++i) log_at(all[i], i);
        const std::string out = cap.text();
        for (int i = 0; i < 4; ++i) {
            const bool shown = all[i] >= min;
            CHECK(count(out, "level test message " + std::to_string(i) + "\n") == (shown ? 1 : 0));
            CHECK(lg::enabled(all[i]) == shown);
        }
    }
    reset();
}

TEST_CASE("level names parse back and nothing else parses") {
    // Property: parse_level inverts level_name and refuses near misses (case, synonyms, empty).
    for (lg::level l : {lg::level::debug, lg::level::info, lg::level::warn, lg::level::error})
        CHECK(lg::parse_level(lg::level_name(l)) == l);
    for (const char* bad : {"", "INFO", "warning", "err", "debug ", "trace"}) {
        CAPTURE(bad);
        CHECK_FALSE(lg::parse_level(bad).has_value());
    }
}

TEST_CASE("the rate limiter writes a burst per window and reports what it suppressed") {
    // Property: of 5 messages in one window with burst 3, 3 are written and 2 suppressed; the
    // first message of the next window is written and carries the count 2; keys are independent.
    lg::rate_limiter limiter(3, 1000);
    const char* a = "a %d";
    const char* b = "b %d";
    int written = 0;
    for (uint64_t t = 0; t < 5; ++t) {
        auto v = limiter.admit(a, lg::level::info, t);
        written += v.write;
        CHECK(v.suppressed_before == 0);
    }
    CHECK(written == 3);
    CHECK(limiter.admit(b, lg::level::info, 10).write);  // another key has its own budget
    auto next = limiter.admit(a, lg::level::info, 1000);
    CHECK(next.write);
    CHECK(next.suppressed_before == 2);
    auto again = limiter.admit(a, lg::level::info, 1001);
    CHECK(again.suppressed_before == 0);  // counted once only
}

TEST_CASE("an ended window with suppressed messages is reported once by take_expired") {
    // Property: take_expired returns only ended windows that suppressed something, with the count
    // and the level, and forgets them, so a second call returns nothing.
    lg::rate_limiter limiter(1, 100);
    const char* noisy = "noisy";
    const char* quiet = "quiet";
    for (int i = 0; i < 4; ++i) limiter.admit(noisy, lg::level::warn, 0);
    limiter.admit(quiet, lg::level::info, 0);
    CHECK(limiter.take_expired(99).empty());  // windows not over yet
    auto expired = limiter.take_expired(100);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].key == noisy);
    CHECK(expired[0].count == 3);
    CHECK(expired[0].l == lg::level::warn);
    CHECK(limiter.take_expired(500).empty());
    CHECK(limiter.admit(noisy, lg::level::warn, 500).write);  // a fresh window
}

TEST_CASE("log::write suppresses a repeating format string and sums it up afterwards") {
    // Property: with burst 2, 7 writes of one format string give 2 lines; once the window has
    // ended flush_suppressed adds one "suppressed 5 messages" line naming the format string.
    reset();
    stderr_capture cap;
    lg::set_rate_limit(2, 50'000'000);  // 50 ms
    for (int i = 0; i < 7; ++i) lg::write(lg::level::warn, "repeating %d", i);
    lg::write(lg::level::warn, "other message");
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    lg::flush_suppressed();
    lg::flush_suppressed();  // nothing left to report
    const std::string out = cap.text();
    CHECK(count(out, "warn  repeating ") == 2);
    CHECK(count(out, "other message") == 1);
    CHECK(count(out, "suppressed 5 messages like \"repeating %d\"") == 1);
    CHECK(count(out, "suppressed") == 1);
    reset();
}

TEST_CASE("JOURNAL_STREAM matches only the exact device and inode of stderr") {
    // Property: "DEV:INO" equal to the stream is a match; another inode, device, or any malformed
    // value (missing part, trailing bytes, sign, empty, unset) is not.
    CHECK(lg::journal_stream_matches("8:1234", 8, 1234));
    CHECK(lg::journal_stream_matches("0:1", 0, 1));
    for (const char* bad :
         {"8:1235", "9:1234", "8:", ":1234", "8:1234x", "8 1234", "-8:1234", "", "8:1234:5"}) {
        CAPTURE(bad);
        CHECK_FALSE(lg::journal_stream_matches(bad, 8, 1234));
    }
    CHECK_FALSE(lg::journal_stream_matches(nullptr, 8, 1234));
}

TEST_CASE("detect_sink picks the journal only when JOURNAL_STREAM names fd 2") {
    // Property: the variable set to fd 2's dev:ino selects the journal; an inherited value naming
    // another stream, or no variable, keeps stderr text.
    stderr_capture cap;
    const struct stat st = cap.st();
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    setenv("JOURNAL_STREAM", mine.c_str(), 1);
    CHECK(lg::detect_sink() == lg::sink::journal);
    setenv("JOURNAL_STREAM", other.c_str(), 1);
    CHECK(lg::detect_sink() == lg::sink::stderr_text);
    unsetenv("JOURNAL_STREAM");
    CHECK(lg::detect_sink() == lg::sink::stderr_text);
}

TEST_CASE("a journal record has priority, identifier, message and the valid fields") {
    // Property: PRIORITY follows syslog (error 3, warn 4, info 6, debug 7), fields keep their
    // order, and names journald would refuse (lower case, leading '_', '-') are left out.
    const lg::field fields[] = {{"VIP", "web"},   {"BACKEND", "198.18.1.12:80"},
                                {"vip", "lower"}, {"_PID", "1"},
                                {"A-B", "dash"},  {"WEIGHT_2", "7"}};
    const auto r = lg::journal_record(lg::level::warn, "sluiced", "backend down", fields);
    const std::vector<std::string> want = {
        "PRIORITY=4", "SYSLOG_IDENTIFIER=sluiced", "MESSAGE=backend down",
        "VIP=web",    "BACKEND=198.18.1.12:80",    "WEIGHT_2=7"};
    CHECK(r == want);
    CHECK(lg::journal_record(lg::level::error, "x", "m", {})[0] == "PRIORITY=3");
    CHECK(lg::journal_record(lg::level::info, "x", "m", {})[0] == "PRIORITY=6");
    CHECK(lg::journal_record(lg::level::debug, "x", "m", {})[0] == "PRIORITY=7");
}

TEST_CASE("without a journald socket the journal sink falls back to stderr") {
    // Property: when sd_journal_sendv cannot reach journald, a message is not lost: it is written
    // to stderr as text (which systemd also collects).
    if (access("/run/systemd/journal/socket", F_OK) == 0) {
        MESSAGE("journald is running here; the fallback cannot be provoked");
        return;
    }
    reset();
    stderr_capture cap;
    lg::set_sink(lg::sink::journal);
    lg::write_fields(lg::level::warn, {{"VIP", "web"}}, "journal fallback %s", "works");
    CHECK(count(cap.text(), "warn  journal fallback works\n") == 1);
    reset();
}
