#pragma once
// What the control socket accepts as a request, without any socket: a client's byte stream cut
// into lines of bounded length, and the UTF-8 check each line passes before it is parsed as JSON.
// Pure functions and a value type, unit-tested (tests/unit/control_input_test.cpp).
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::control {

// Offset of the first byte that makes `text` invalid UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF, no truncated sequence), or std::string_view::npos.
size_t invalid_utf8_offset(std::string_view text);

// Cuts a stream into '\n'-terminated lines of at most `max_line_bytes` bytes, newline included.
// The buffer never holds more than max_line_bytes plus what the caller appended in one call, as
// long as the caller appends only while wants_more() is true.
class request_lines {
public:
    enum class status { line, incomplete, too_long };

    explicit request_lines(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

    void append(std::string_view bytes) { buffer_.append(bytes); }
    // The next complete line (without its '\n') into `line`; too_long when the pending line
    // already exceeds the limit (the stream cannot be framed after that: close it).
    status next(std::string& line);
    // False once a complete line is waiting or the pending one is already too long: reading
    // more would only grow the buffer.
    bool wants_more() const;
    // Bytes of an unfinished line (a client that closes mid-line leaves them behind).
    size_t pending_bytes() const { return buffer_.size(); }

private:
    size_t max_line_bytes_;
    std::string buffer_;
};

}  // namespace sluice::control
