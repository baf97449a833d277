#pragma once
// Logging for startup and the control thread: the data path never logs (hot-path rule 2), it
// counts. A message goes to stderr as "TIMESTAMP LEVEL text", or, when stderr is the journal
// (systemd's JOURNAL_STREAM names it), to journald as a record with PRIORITY, MESSAGE,
// SYSLOG_IDENTIFIER and the structured fields the call site gives (VIP=, BACKEND=), so
// `journalctl -u sluiced VIP=web` finds them. Messages below the minimum level are dropped; a
// format string written more than a burst of times per interval is suppressed, and one line then
// says how many were. Any thread may call (one mutex): startup, the control thread, and DPDK's
// telemetry thread through code it shares.
#include <sys/types.h>

#include <cstdarg>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::log {

enum class level { debug, info, warn, error };

// A structured journal field. Its name must be journald's kind (A-Z, 0-9, '_', not starting with
// '_', at most 64 bytes); a field with another name is left out of the record.
struct field {
    std::string_view name;
    std::string_view value;
};

void set_min_level(level l);
level min_level();
bool enabled(level l);
const char* level_name(level l);
// "debug", "info", "warn", "error"; anything else is nullopt.
std::optional<level> parse_level(std::string_view name);
// syslog(3) priority for journald's PRIORITY= (debug 7, info 6, warn 4, error 3).
int syslog_priority(level l);

enum class sink { stderr_text, journal };
// Whether JOURNAL_STREAM's value ("DEV:INO", decimal) is the stream (dev, ino). systemd sets it
// for a service whose stderr is connected to the journal; a child whose stderr was redirected
// inherits the variable but not the stream, hence the comparison (systemd.exec(5)).
bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino);
// sink::journal when JOURNAL_STREAM names fd 2, else sink::stderr_text. Startup only.
sink detect_sink();
void set_sink(sink s);
sink current_sink();
// SYSLOG_IDENTIFIER of journal records ("sluiced" unless set).
void set_identifier(std::string_view identifier);

// The journal record of one message: PRIORITY=, SYSLOG_IDENTIFIER=, MESSAGE=, then each field
// whose name is valid, as NAME=value strings.
std::vector<std::string> journal_record(level l, std::string_view identifier,
                                        std::string_view message, std::span<const field> fields);

// Counts messages per key (the format string) in fixed windows of `interval_ns` from a key's first
// message: at most `burst` per window are written, the rest suppressed. Not thread-safe: the log
// module calls it under its mutex; tests call it directly.
class rate_limiter {
public:
    rate_limiter(uint32_t burst, uint64_t interval_ns);

    struct verdict {
        bool write = true;
        uint64_t suppressed_before = 0;  // suppressed in this key's window that just ended
    };
    // Whether a message with `key` may be written at now_ns (monotonic).
    verdict admit(const char* key, level l, uint64_t now_ns);

    struct suppressed {
        const char* key;
        level l;  // of the last suppressed message
        uint64_t count;
    };
    // Keys whose window has ended, forgotten; those that suppressed messages are returned with the
    // count, for the summary lines that would otherwise wait for the key's next message.
    std::vector<suppressed> take_expired(uint64_t now_ns);

    uint32_t burst() const { return burst_; }
    uint64_t interval_ns() const { return interval_ns_; }

private:
    struct window {
        uint64_t start_ns = 0;
        uint64_t written = 0;
        uint64_t suppressed = 0;
        level last = level::info;
    };
    uint32_t burst_;
    uint64_t interval_ns_;
    std::unordered_map<const char*, window> windows_;
};

// Defaults: 100 messages per format string per 10 s.
inline constexpr uint32_t default_burst = 100;
inline constexpr uint64_t default_interval_ns = 10'000'000'000;
void set_rate_limit(uint32_t burst, uint64_t interval_ns);
// Writes the "suppressed N messages" lines of windows that have ended (the control loop calls it
// about once a second, so a burst that stopped is still summed up).
void flush_suppressed();

void write(level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// write() with journal fields, e.g. {{"VIP", name}, {"BACKEND", "198.18.1.12:80"}}; on stderr the
// fields are not printed (the text names them already).
void write_fields(level l, std::initializer_list<field> fields, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SLUICE_LOG_INFO(...) ::sluice::log::write(::sluice::log::level::info, __VA_ARGS__)
#define SLUICE_LOG_WARN(...) ::sluice::log::write(::sluice::log::level::warn, __VA_ARGS__)
#define SLUICE_LOG_ERROR(...) ::sluice::log::write(::sluice::log::level::error, __VA_ARGS__)
#define SLUICE_LOG_DEBUG(...) ::sluice::log::write(::sluice::log::level::debug, __VA_ARGS__)

}  // namespace sluice::log
