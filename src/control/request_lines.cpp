#include "control/request_lines.hpp"

#include <cstdint>

namespace sluice::control {

namespace {

// Bytes 2..4 of a multi-byte sequence are 10xxxxxx.
bool continuation(uint8_t b) {
    return (b & 0xC0) == 0x80;
}

// Length of the valid sequence starting at text[i], or 0. The ranges of the second byte are
// Table 3-7 of the Unicode standard ("well-formed UTF-8 byte sequences").
size_t sequence_length(std::string_view text, size_t i) {
    const auto at = [&](size_t k) { return uint8_t(text[i + k]); };
    const uint8_t lead = at(0);
    if (lead < 0x80) return 1;
    size_t len = 0;
    uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3;
        if (lead == 0xE0) low = 0xA0;   // overlong below U+0800
        if (lead == 0xED) high = 0x9F;  // surrogates U+D800..U+DFFF
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4;
        if (lead == 0xF0) low = 0x90;   // overlong below U+10000
        if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
        return 0;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
    }
    if (i + len > text.size()) return 0;
    if (at(1) < low || at(1) > high) return 0;
    for (size_t k = 2; k < len; ++k)
        if (!continuation(at(k))) return 0;
    return len;
}

}  // namespace

size_t invalid_utf8_offset(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        size_t len = sequence_length(text, i);
        if (len == 0) return i;
        i += len;
    }
    return std::string_view::npos;
}

request_lines::status request_lines::next(std::string& line) {
    size_t nl = buffer_.find('\n');
    if (nl == std::string::npos)
        return buffer_.size() >= max_line_bytes_ ? status::too_long : status::incomplete;
    if (nl + 1 > max_line_bytes_) return status::too_long;
    line.assign(buffer_, 0, nl);
    buffer_.erase(0, nl + 1);
    return status::line;
}

bool request_lines::wants_more() const {
    return buffer_.size() < max_line_bytes_ && buffer_.find('\n') == std::string::npos;
}

}  // namespace sluice::control
