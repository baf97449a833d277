#pragma once
// Real frames of the load generator on plain byte buffers: building what its client and server
// sides send (Ethernet + IPv4/IPv6 + TCP/UDP with correct checksums) and checking what comes back
// from the load balancer (parsed, both checksums verified, addresses and ports judged against
// what that side expects). No DPDK types: the DPDK program copies into mbufs, the unit tests use
// vectors.
//
// The repository's own packet code does the work (docs/hil.md says why): src/packet/wire.hpp for
// offsets and accessors, checksum.hpp for the IPv4 header and pseudo-header checksums, parse.hpp's
// parse_frame for the bounds-checked parse and tcp_options.hpp for the options of a SYN. A frame
// the generator judges is therefore parsed exactly as sluiced parses it.
//
// The two sides, in full-NAT (client C, VIP V, LB local address L, backend B):
//   client side sends C:cport -> V:vport   and receives V:vport -> C:cport;
//   server side receives L:lport -> B:bport and sends  B:bport -> L:lport (L and lport learned
//   from the connection's first server-side frame, the SYN).
//
// Threads: pure functions over bytes; any thread (each generator lcore on its own frames).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "packet/parse.hpp"
#include "sluice/ip_address.hpp"
#include "tcp_peer.hpp"

namespace sluice::loadgen {

using mac_address = std::array<uint8_t, 6>;

enum class l4_protocol : uint8_t { tcp = 6, udp = 17 };

// `count` consecutive addresses from `first`, counted in the last 32 bits (an IPv6 range keeps
// its first 12 bytes), so an address's offset in the range is one subtraction: the generator
// chooses its addresses from ranges and finds a connection from an address without hashing.
struct address_range {
    ip_address first;
    uint32_t count = 1;

    // At least one address and no carry out of the last 32 bits.
    bool valid() const;
    ip_address at(uint32_t offset) const;  // offset < count
    std::optional<uint32_t> offset_of(const ip_address& a) const;
};

// Ports first .. first + count - 1.
struct port_range {
    uint16_t first = 0;
    uint32_t count = 1;

    bool valid() const { return count >= 1 && first + count <= 65536; }
    uint16_t at(uint32_t offset) const { return uint16_t(first + offset); }
    std::optional<uint32_t> offset_of(uint16_t port) const {
        if (port < first || uint32_t(port - first) >= count) return std::nullopt;
        return uint32_t(port - first);
    }
};

// Both ends of a frame to build. Addresses of one family.
struct frame_ends {
    mac_address src_mac{};
    mac_address dst_mac{};
    ip_address src;
    ip_address dst;
    uint16_t src_port = 0;  // host order
    uint16_t dst_port = 0;
};

// The head of every payload of at least stamp_len bytes, big-endian:
//   bytes 0-3   magic word "SLG2";
//   bytes 4-6   the connection's index in the generator's table (24 bits: max_connections);
//   bytes 7-9   the sender's sequence number on that connection (24 bits, wraps; 0: none), from
//               which the receiving side counts frames that arrive out of order (flow_order.hpp);
//   bytes 10-15 the send time in ns (48 bits: wraps after 78 hours; 0: not a latency sample).
// The balancer does not touch payloads, so the receiving side finds the connection, its order
// and a latency sample without any lookup; a shorter payload carries no stamp. Bytes after the
// stamp are zero.
struct payload_stamp {
    uint32_t connection = 0;  // < 2^24
    uint64_t sent_ns = 0;     // < 2^48; the sender's clock; 0: not a latency sample
    uint32_t seq = 0;         // < 2^24; 0: not numbered (not judged for order)
    bool operator==(const payload_stamp&) const = default;
};
inline constexpr uint32_t stamp_magic = 0x534c4732;  // "SLG2"
inline constexpr unsigned stamp_len = 16;
inline constexpr uint64_t stamp_time_mask = (uint64_t(1) << 48) - 1;
inline constexpr uint32_t stamp_seq_mask = (uint32_t(1) << 24) - 1;

// Writes the stamp (fields masked to their widths) when `len` >= stamp_len.
void write_stamp(uint8_t* payload, uint32_t len, const payload_stamp& stamp);
std::optional<payload_stamp> read_stamp(const uint8_t* payload, uint32_t len);

// The TCP fields of a frame to build: tcp_peer's segment (seq, ack, flags, payload length) plus
// the window and, for SYN and SYN-ACK, an MSS option.
struct tcp_fields {
    segment seg;
    uint16_t window = 65535;
    uint16_t mss = 0;  // 0: no option (20-byte header); else a 4-byte MSS option
};

// Longest header stack built here: Ethernet, IPv6, TCP with the MSS option.
inline constexpr unsigned max_header_len = 14 + 40 + 24;

// Write the frame at `out` (room for `room` bytes) and return its length; 0 when it does not fit,
// the ends' families differ, or the IP length would pass 65535. TTL / hop limit 64, IPv4 with DF
// and identification 0. The payload is stamped when `stamp` is given and the payload is long
// enough. UDP: a computed checksum of 0 is sent as 0xffff (RFC 768).
size_t build_tcp_frame(uint8_t* out, size_t room, const frame_ends& ends, const tcp_fields& tcp,
                       const payload_stamp* stamp = nullptr);
size_t build_udp_frame(uint8_t* out, size_t room, const frame_ends& ends, uint32_t payload_len,
                       const payload_stamp* stamp = nullptr);

// What a received frame is, one counter per value in the generator; the first that applies in
// this order (the connection table adds the last two).
enum class frame_verdict : uint8_t {
    ok,
    not_ip,              // ARP, another ethertype, shorter than an Ethernet header
    malformed,           // refused by parse_frame (lengths, version, fragment, TCP options, ...)
    bad_ip_checksum,     // IPv4 header checksum
    wrong_protocol,      // IP but neither TCP nor UDP
    bad_l4_checksum,     // TCP or UDP checksum, UDP without checksum (the generator sends none)
    wrong_address,       // source or destination not what this side expects, or another family
    wrong_port,          // source or destination port not what this side expects
    unknown_connection,  // addresses fine, but no connection of the table has them
    stamp_mismatch,      // the payload's connection index names another connection
    count
};

const char* verdict_name(frame_verdict verdict);

// What a check read from a frame. The fields after `parsed` hold from the first verdict that
// does not stop the parse (wrong_address on): a generator counts what arrived even when wrong.
struct received_frame {
    packet::parsed_frame parsed;  // offsets, lengths, ports, TCP flags
    l4_protocol protocol = l4_protocol::tcp;
    ip_address src;
    ip_address dst;
    segment tcp;                  // TCP: all fields; UDP: payload_len only
    uint16_t window = 0;          // TCP
    uint16_t mss = 0;             // TCP MSS option, 0 when absent
    uint32_t payload_offset = 0;  // from the start of the frame
    std::optional<payload_stamp> stamp;
    // Set when the verdict is ok, offsets in the side's ranges. Client side: the client address
    // and port. Server side: the LB local address, the backend address; port_offset is the local
    // port itself (the balancer chooses it from no range the generator knows).
    uint32_t address_offset = 0;
    uint32_t port_offset = 0;
    uint32_t backend_offset = 0;
};

// What the client side accepts: from the VIP to one of the generator's clients.
struct client_side_expectation {
    ip_address vip;
    uint16_t vip_port = 0;
    address_range clients;
    port_range client_ports;
};

// What the server side accepts: from one of the balancer's local addresses (any port: the
// balancer chooses it) to one of the generator's backends on the backends' port.
struct server_side_expectation {
    address_range local;
    address_range backends;
    uint16_t backend_port = 0;
};

frame_verdict check_client_frame(const uint8_t* frame, uint32_t len,
                                 const client_side_expectation& x, received_frame& out);
frame_verdict check_server_frame(const uint8_t* frame, uint32_t len,
                                 const server_side_expectation& x, received_frame& out);

}  // namespace sluice::loadgen
