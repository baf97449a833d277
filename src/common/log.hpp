#pragma once
// Logging to stderr with a timestamp and level. Control thread and startup only: the data path
// never logs (hot-path rule 2), it counts.
#include <cstdarg>

namespace sluice::log {

enum class level { debug, info, warn, error };

void set_min_level(level l);
void write(level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define SLUICE_LOG_INFO(...) ::sluice::log::write(::sluice::log::level::info, __VA_ARGS__)
#define SLUICE_LOG_WARN(...) ::sluice::log::write(::sluice::log::level::warn, __VA_ARGS__)
#define SLUICE_LOG_ERROR(...) ::sluice::log::write(::sluice::log::level::error, __VA_ARGS__)
#define SLUICE_LOG_DEBUG(...) ::sluice::log::write(::sluice::log::level::debug, __VA_ARGS__)

}  // namespace sluice::log
