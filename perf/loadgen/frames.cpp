// Building and checking the generator's frames (frames.hpp has the sides and the threads).
#include "frames.hpp"

#include <cstring>

#include "packet/checksum.hpp"
#include "packet/tcp_options.hpp"
#include "packet/wire.hpp"

namespace sluice::loadgen {

namespace pk = sluice::packet;

namespace {

constexpr uint8_t default_ttl = 64;
constexpr unsigned mss_option_len = pk::tcp_option::mss_len;

// The last 32 bits of an address, host order (the part a range counts in).
uint32_t low32(const ip_address& a) {
    return pk::load_be32(a.bytes.data() + a.size() - 4);
}

// The IP header's length for the family.
unsigned l3_len(const ip_address& a) {
    return a.is_v4() ? pk::ipv4_min_header_len : pk::ipv6_header_len;
}

// Ethernet and IP headers for an L4 message of `l4_len` bytes; returns the L4 offset.
unsigned write_l2_l3(uint8_t* out, const frame_ends& e, uint8_t protocol, size_t l4_len) {
    std::memcpy(out + pk::eth_dst, e.dst_mac.data(), 6);
    std::memcpy(out + pk::eth_src, e.src_mac.data(), 6);
    uint8_t* ip = out + pk::ethernet_header_len;
    if (e.src.is_v4()) {
        pk::store_be16(out + pk::eth_type, pk::ethertype_ipv4);
        std::memset(ip, 0, pk::ipv4_min_header_len);
        ip[pk::ip4_ver_ihl] = 0x45;
        pk::store_be16(ip + pk::ip4_total_len, uint16_t(pk::ipv4_min_header_len + l4_len));
        pk::store_be16(ip + pk::ip4_frag, 0x4000);  // DF
        ip[pk::ip4_ttl] = default_ttl;
        ip[pk::ip4_proto] = protocol;
        std::memcpy(ip + pk::ip4_src, e.src.bytes.data(), 4);
        std::memcpy(ip + pk::ip4_dst, e.dst.bytes.data(), 4);
        pk::store_raw16(ip + pk::ip4_csum, pk::checksum_full(ip, pk::ipv4_min_header_len));
    } else {
        pk::store_be16(out + pk::eth_type, pk::ethertype_ipv6);
        std::memset(ip, 0, pk::ipv6_header_len);
        ip[0] = 0x60;
        pk::store_be16(ip + pk::ip6_payload_len, uint16_t(l4_len));
        ip[pk::ip6_next] = protocol;
        ip[pk::ip6_hop_limit] = default_ttl;
        std::memcpy(ip + pk::ip6_src, e.src.bytes.data(), 16);
        std::memcpy(ip + pk::ip6_dst, e.dst.bytes.data(), 16);
    }
    return pk::ethernet_header_len + l3_len(e.src);
}

// Total frame length for an L4 message of `l4_len` bytes, or 0 when it cannot be built.
size_t frame_len(size_t room, const frame_ends& e, size_t l4_len) {
    if (e.src.family != e.dst.family) return 0;
    const size_t ip_len = l3_len(e.src) + l4_len;
    if (ip_len - (e.src.is_v4() ? 0 : pk::ipv6_header_len) > 0xffff) return 0;
    const size_t len = pk::ethernet_header_len + ip_len;
    return len <= room ? len : 0;
}

// Payload bytes: the stamp when asked for and there is room, zeros otherwise.
void write_payload(uint8_t* payload, uint32_t len, const payload_stamp* stamp) {
    std::memset(payload, 0, len);
    if (stamp) write_stamp(payload, len, *stamp);
}

// The L4 checksum of a message whose checksum field is zero, under its pseudo-header.
uint16_t l4_checksum(const frame_ends& e, uint8_t protocol, const uint8_t* l4, size_t l4_len) {
    const uint8_t family = e.src.is_v4() ? 4 : 6;
    const uint64_t pseudo =
        pk::pseudo_header_sum(family, e.src.bytes.data(), e.dst.bytes.data(), protocol, l4_len);
    return pk::checksum_full(l4, l4_len, pseudo);
}

}  // namespace

bool address_range::valid() const {
    return count >= 1 && uint64_t(low32(first)) + count - 1 <= 0xffffffffu;
}

ip_address address_range::at(uint32_t offset) const {
    ip_address a = first;
    pk::store_be32(a.bytes.data() + a.size() - 4, low32(first) + offset);
    return a;
}

std::optional<uint32_t> address_range::offset_of(const ip_address& a) const {
    if (a.family != first.family) return std::nullopt;
    if (!a.is_v4() && std::memcmp(a.bytes.data(), first.bytes.data(), 12) != 0) return std::nullopt;
    const uint32_t o = low32(a) - low32(first);
    if (low32(a) < low32(first) || o >= count) return std::nullopt;
    return o;
}

// 24-bit fields at byte offsets 4 and 7, the 48-bit time at 10 (frames.hpp has the layout).
void write_stamp(uint8_t* payload, uint32_t len, const payload_stamp& stamp) {
    if (len < stamp_len) return;
    pk::store_be32(payload, stamp_magic);
    pk::store_be32(payload + 4,
                   (stamp.connection & stamp_seq_mask) << 8 | (stamp.seq >> 16 & 0xff));
    pk::store_be16(payload + 8, uint16_t(stamp.seq));
    const uint64_t t = stamp.sent_ns & stamp_time_mask;
    pk::store_be16(payload + 10, uint16_t(t >> 32));
    pk::store_be32(payload + 12, uint32_t(t));
}

std::optional<payload_stamp> read_stamp(const uint8_t* payload, uint32_t len) {
    if (len < stamp_len || pk::load_be32(payload) != stamp_magic) return std::nullopt;
    payload_stamp s;
    const uint32_t word = pk::load_be32(payload + 4);
    s.connection = word >> 8;
    s.seq = (word & 0xff) << 16 | pk::load_be16(payload + 8);
    s.sent_ns = uint64_t(pk::load_be16(payload + 10)) << 32 | pk::load_be32(payload + 12);
    return s;
}

size_t build_tcp_frame(uint8_t* out, size_t room, const frame_ends& ends, const tcp_fields& t,
                       const payload_stamp* stamp) {
    const unsigned header = pk::tcp_min_header_len + (t.mss ? mss_option_len : 0);
    const size_t l4_len = size_t(header) + t.seg.payload_len;
    const size_t len = frame_len(room, ends, l4_len);
    if (!len) return 0;
    uint8_t* l4 = out + write_l2_l3(out, ends, pk::ipproto_tcp, l4_len);
    pk::store_be16(l4 + pk::l4_sport, ends.src_port);
    pk::store_be16(l4 + pk::l4_dport, ends.dst_port);
    pk::store_be32(l4 + pk::tcp_seq, t.seg.seq);
    pk::store_be32(l4 + pk::tcp_ack, t.seg.ack);
    l4[pk::tcp_off] = uint8_t((header / 4) << 4);
    l4[pk::tcp_flags_off] = t.seg.flags;
    pk::store_be16(l4 + pk::tcp_window, t.window);
    pk::store_raw16(l4 + pk::tcp_csum, 0);
    pk::store_be16(l4 + 18, 0);  // urgent pointer
    if (t.mss) {
        l4[20] = pk::tcp_option::mss;
        l4[21] = uint8_t(mss_option_len);
        pk::store_be16(l4 + 22, t.mss);
    }
    write_payload(l4 + header, t.seg.payload_len, stamp);
    pk::store_raw16(l4 + pk::tcp_csum, l4_checksum(ends, pk::ipproto_tcp, l4, l4_len));
    return len;
}

size_t build_udp_frame(uint8_t* out, size_t room, const frame_ends& ends, uint32_t payload_len,
                       const payload_stamp* stamp) {
    const size_t l4_len = size_t(pk::udp_header_len) + payload_len;
    const size_t len = l4_len <= 0xffff ? frame_len(room, ends, l4_len) : 0;
    if (!len) return 0;
    uint8_t* l4 = out + write_l2_l3(out, ends, pk::ipproto_udp, l4_len);
    pk::store_be16(l4 + pk::l4_sport, ends.src_port);
    pk::store_be16(l4 + pk::l4_dport, ends.dst_port);
    pk::store_be16(l4 + pk::udp_len, uint16_t(l4_len));
    pk::store_raw16(l4 + pk::udp_csum, 0);
    write_payload(l4 + pk::udp_header_len, payload_len, stamp);
    uint16_t c = l4_checksum(ends, pk::ipproto_udp, l4, l4_len);
    if (c == 0) c = 0xffff;  // 0 would mean "no checksum"
    pk::store_raw16(l4 + pk::udp_csum, c);
    return len;
}

const char* verdict_name(frame_verdict verdict) {
    switch (verdict) {
        case frame_verdict::ok:
            return "ok";
        case frame_verdict::not_ip:
            return "not_ip";
        case frame_verdict::malformed:
            return "malformed";
        case frame_verdict::bad_ip_checksum:
            return "bad_ip_checksum";
        case frame_verdict::wrong_protocol:
            return "wrong_protocol";
        case frame_verdict::bad_l4_checksum:
            return "bad_l4_checksum";
        case frame_verdict::wrong_address:
            return "wrong_address";
        case frame_verdict::wrong_port:
            return "wrong_port";
        case frame_verdict::unknown_connection:
            return "unknown_connection";
        case frame_verdict::stamp_mismatch:
            return "stamp_mismatch";
        case frame_verdict::count:
            break;
    }
    return "?";
}

namespace {

// The TCP fields of a parsed segment; false when its options are malformed.
bool read_tcp(const uint8_t* l4, received_frame& out) {
    const unsigned header = unsigned(l4[pk::tcp_off] >> 4) * 4;
    out.tcp.seq = pk::load_be32(l4 + pk::tcp_seq);
    out.tcp.ack = pk::load_be32(l4 + pk::tcp_ack);
    out.tcp.flags = l4[pk::tcp_flags_off];
    out.tcp.payload_len = out.parsed.l4_length - header;
    out.window = pk::load_be16(l4 + pk::tcp_window);
    out.payload_offset = out.parsed.l4_offset + header;
    uint16_t mss = 0;
    const bool ok = pk::for_each_tcp_option(l4, header, [&](uint8_t kind, unsigned off, unsigned) {
        if (kind == pk::tcp_option::mss) mss = pk::load_be16(l4 + off + 2);
    });
    out.mss = mss;
    return ok;
}

// Parse, both checksums, the L4 fields and the stamp: everything that does not depend on the
// side. ok means the addresses and ports are still to judge.
frame_verdict read_frame(const uint8_t* frame, uint32_t len, received_frame& out) {
    out = received_frame{};
    switch (pk::parse_frame(frame, len, out.parsed, true)) {
        case drop_reason::none:
            break;
        case drop_reason::truncated_ethernet:
        case drop_reason::unsupported_ethertype:
            return frame_verdict::not_ip;
        case drop_reason::bad_ipv4_checksum:
            return frame_verdict::bad_ip_checksum;
        default:
            return frame_verdict::malformed;
    }
    if (out.parsed.kind == pk::frame_kind::arp) return frame_verdict::not_ip;
    if (out.parsed.kind != pk::frame_kind::ip_l4) return frame_verdict::wrong_protocol;
    out.src = pk::frame_src(frame, out.parsed);
    out.dst = pk::frame_dst(frame, out.parsed);
    const uint8_t* l4 = frame + out.parsed.l4_offset;
    const bool tcp = out.parsed.protocol == pk::ipproto_tcp;
    out.protocol = tcp ? l4_protocol::tcp : l4_protocol::udp;
    // UDP covers its own length (parse_frame checked it is within the IP payload).
    const size_t l4_len = tcp ? out.parsed.l4_length : pk::load_be16(l4 + pk::udp_len);
    if (!tcp && pk::load_raw16(l4 + pk::udp_csum) == 0) return frame_verdict::bad_l4_checksum;
    if (!pk::l4_checksum_verifies(uint8_t(out.src.family), out.src.bytes.data(),
                                  out.dst.bytes.data(), out.parsed.protocol, l4, l4_len))
        return frame_verdict::bad_l4_checksum;
    if (tcp) {
        if (!read_tcp(l4, out)) return frame_verdict::malformed;
    } else {
        out.tcp.payload_len = uint32_t(l4_len - pk::udp_header_len);
        out.payload_offset = out.parsed.l4_offset + pk::udp_header_len;
    }
    out.stamp = read_stamp(frame + out.payload_offset, out.tcp.payload_len);
    return frame_verdict::ok;
}

}  // namespace

frame_verdict check_client_frame(const uint8_t* frame, uint32_t len,
                                 const client_side_expectation& x, received_frame& out) {
    const frame_verdict v = read_frame(frame, len, out);
    if (v != frame_verdict::ok) return v;
    const std::optional<uint32_t> client = x.clients.offset_of(out.dst);
    if (!(out.src == x.vip) || !client) return frame_verdict::wrong_address;
    const std::optional<uint32_t> port = x.client_ports.offset_of(out.parsed.dst_port);
    if (out.parsed.src_port != x.vip_port || !port) return frame_verdict::wrong_port;
    out.address_offset = *client;
    out.port_offset = *port;
    return frame_verdict::ok;
}

frame_verdict check_server_frame(const uint8_t* frame, uint32_t len,
                                 const server_side_expectation& x, received_frame& out) {
    const frame_verdict v = read_frame(frame, len, out);
    if (v != frame_verdict::ok) return v;
    const std::optional<uint32_t> local = x.local.offset_of(out.src);
    const std::optional<uint32_t> backend = x.backends.offset_of(out.dst);
    if (!local || !backend) return frame_verdict::wrong_address;
    if (out.parsed.dst_port != x.backend_port) return frame_verdict::wrong_port;
    out.address_offset = *local;
    out.port_offset = out.parsed.src_port;
    out.backend_offset = *backend;
    return frame_verdict::ok;
}

}  // namespace sluice::loadgen
