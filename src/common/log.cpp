#include "common/log.hpp"

#include <cstdio>
#include <ctime>

namespace sluice::log {

namespace {
level min_level = level::info;
const char* name(level l) {
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
}  // namespace

void set_min_level(level l) {
    min_level = l;
}

void write(level l, const char* fmt, ...) {
    if (l < min_level) return;
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    char line[1024];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                     ts.tv_nsec / 1000000, name(l));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - size_t(n), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}

}  // namespace sluice::log
