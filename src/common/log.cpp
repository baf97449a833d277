#include "common/log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
// Without this, sd_journal_sendv adds CODE_FILE/CODE_LINE/CODE_FUNC of emit() below to every
// record: the same useless location each time.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace sluice::log {

namespace {

std::atomic<level> min_level_{level::info};
std::atomic<sink> sink_{sink::stderr_text};

// The writer's state: the limiter and the identifier, under one mutex (any thread may log).
struct writer_state {
    std::mutex mutex;
    rate_limiter limiter{default_burst, default_interval_ns};
    std::string identifier = "sluiced";
};

writer_state& state() {
    static writer_state s;  // constructed on first use: logging may run before main()'s setup
    return s;
}

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

bool valid_field_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '_') return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

void write_stderr(level l, std::string_view message) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %.*s\n", t.tm_year + 1900,
            t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000,
            level_name(l), int(message.size()), message.data());
}

// journald's socket. sd_journal_sendv reports success when it is missing (it drops the record
// silently), so emit() looks first.
constexpr const char* journal_socket = "/run/systemd/journal/socket";

// One message out, under the state's mutex. The journal gets a record; without journald (no
// socket, e.g. while it restarts) or when it refuses the record, the text goes to stderr, which
// systemd also collects.
void emit(writer_state& s, level l, std::string_view message, std::span<const field> fields) {
    if (sink_.load(std::memory_order_relaxed) == sink::journal &&
        access(journal_socket, F_OK) == 0) {
        const auto record = journal_record(l, s.identifier, message, fields);
        std::vector<iovec> iov;
        iov.reserve(record.size());
        for (const auto& r : record) iov.push_back({const_cast<char*>(r.data()), r.size()});
        if (sd_journal_sendv(iov.data(), int(iov.size())) >= 0) return;
    }
    write_stderr(l, message);
}

void emit_summary(writer_state& s, const char* key, level l, uint64_t count) {
    char line[512];
    snprintf(line, sizeof line, "suppressed %llu messages like \"%s\" (over %u in %llu s)",
             (unsigned long long)count, key, s.limiter.burst(),
             (unsigned long long)(s.limiter.interval_ns() / 1000000000u));
    emit(s, l, line, {});
}

void vwrite(level l, std::span<const field> fields, const char* fmt, va_list ap) {
    if (!enabled(l)) return;
    char text[4096];
    vsnprintf(text, sizeof text, fmt, ap);  // before the lock: formatting takes the most time
    writer_state& s = state();
    std::lock_guard guard(s.mutex);
    const rate_limiter::verdict v = s.limiter.admit(fmt, l, monotonic_ns());
    if (v.suppressed_before > 0) emit_summary(s, fmt, l, v.suppressed_before);
    if (v.write) emit(s, l, text, fields);
}

}  // namespace

void set_min_level(level l) {
    min_level_.store(l, std::memory_order_relaxed);
}

level min_level() {
    return min_level_.load(std::memory_order_relaxed);
}

bool enabled(level l) {
    return l >= min_level();
}

const char* level_name(level l) {
    switch (l) {
        case level::debug:
            return "debug";
        case level::info:
            return "info";
        case level::warn:
            return "warn";
        case level::error:
            return "error";
    }
    return "?";
}

std::optional<level> parse_level(std::string_view name) {
    for (level l : {level::debug, level::info, level::warn, level::error})
        if (name == level_name(l)) return l;
    return std::nullopt;
}

int syslog_priority(level l) {
    switch (l) {
        case level::debug:
            return 7;  // LOG_DEBUG
        case level::info:
            return 6;  // LOG_INFO
        case level::warn:
            return 4;  // LOG_WARNING
        case level::error:
            return 3;  // LOG_ERR
    }
    return 6;
}

bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino) {
    if (!journal_stream) return false;
    const std::string_view v(journal_stream);
    const size_t colon = v.find(':');
    if (colon == std::string_view::npos) return false;
    unsigned long long d = 0, i = 0;
    const char* end = v.data() + v.size();
    auto rd = std::from_chars(v.data(), v.data() + colon, d);
    auto ri = std::from_chars(v.data() + colon + 1, end, i);
    if (rd.ec != std::errc{} || rd.ptr != v.data() + colon || colon == 0) return false;
    if (ri.ec != std::errc{} || ri.ptr != end || colon + 1 == v.size()) return false;
    return d == (unsigned long long)dev && i == (unsigned long long)ino;
}

sink detect_sink() {
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return sink::stderr_text;
    return journal_stream_matches(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino)
               ? sink::journal
               : sink::stderr_text;
}

void set_sink(sink s) {
    sink_.store(s, std::memory_order_relaxed);
}

sink current_sink() {
    return sink_.load(std::memory_order_relaxed);
}

void set_identifier(std::string_view identifier) {
    writer_state& s = state();
    std::lock_guard guard(s.mutex);
    s.identifier = identifier;
}

std::vector<std::string> journal_record(level l, std::string_view identifier,
                                        std::string_view message, std::span<const field> fields) {
    std::vector<std::string> record;
    record.reserve(3 + fields.size());
    record.push_back("PRIORITY=" + std::to_string(syslog_priority(l)));
    record.push_back("SYSLOG_IDENTIFIER=" + std::string(identifier));
    record.push_back("MESSAGE=" + std::string(message));
    for (const field& f : fields)
        if (valid_field_name(f.name))
            record.push_back(std::string(f.name) + "=" + std::string(f.value));
    return record;
}

rate_limiter::rate_limiter(uint32_t burst, uint64_t interval_ns)
    : burst_(burst), interval_ns_(interval_ns) {}

rate_limiter::verdict rate_limiter::admit(const char* key, level l, uint64_t now_ns) {
    verdict v;
    auto [it, fresh] = windows_.try_emplace(key);
    window& w = it->second;
    if (fresh) {
        w.start_ns = now_ns;
    } else if (now_ns - w.start_ns >= interval_ns_) {
        v.suppressed_before = w.suppressed;
        w = window{now_ns, 0, 0, l};
    }
    if (w.written < burst_) {
        ++w.written;
    } else {
        ++w.suppressed;
        w.last = l;
        v.write = false;
    }
    return v;
}

std::vector<rate_limiter::suppressed> rate_limiter::take_expired(uint64_t now_ns) {
    std::vector<suppressed> out;
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (now_ns - it->second.start_ns < interval_ns_) {
            ++it;
            continue;
        }
        if (it->second.suppressed > 0)
            out.push_back({it->first, it->second.last, it->second.suppressed});
        it = windows_.erase(it);
    }
    return out;
}

void set_rate_limit(uint32_t burst, uint64_t interval_ns) {
    writer_state& s = state();
    std::lock_guard guard(s.mutex);
    s.limiter = rate_limiter(burst, interval_ns);
}

void flush_suppressed() {
    writer_state& s = state();
    std::lock_guard guard(s.mutex);
    for (const auto& e : s.limiter.take_expired(monotonic_ns()))
        emit_summary(s, e.key, e.l, e.count);
}

void write(level l, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vwrite(l, {}, fmt, ap);
    va_end(ap);
}

void write_fields(level l, std::initializer_list<field> fields, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vwrite(l, std::span<const field>(fields.begin(), fields.size()), fmt, ap);
    va_end(ap);
}

}  // namespace sluice::log
