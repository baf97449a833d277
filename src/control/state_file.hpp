#pragma once
// Reading and writing the state file (docs/operations.md, "State that survives"). Writes are
// atomic: a temporary file in the same directory, fsync, rename over the old one, fsync of the
// directory, so that a crash or power loss leaves the old state or the new one, never a torn
// file. The file is created with mode 0600 by the daemon's user. Blocking I/O on a small file:
// called on the control thread after an operator's change, never per packet.
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sluice::control {

// A state file larger than this is refused unread (a state of 100000 backends is ~10 MiB).
inline constexpr size_t max_state_file_bytes = 16u << 20;

// The file's text; nullopt when it does not exist (a first start). An error says what is wrong
// ("Permission denied", "a directory, not a regular file", "… bytes, over the 16 MiB limit").
result<std::optional<std::string>> read_state_file(const std::string& path);

// Replaces `path` with `content` atomically. The error names the step that failed.
result<> write_state_file(const std::string& path, std::string_view content);

}  // namespace sluice::control
