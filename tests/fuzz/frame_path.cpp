// Fuzz target: a worker's whole frame path (RX, classify, handoff, full NAT both ways, SYN proxy,
// TX) on a fresh runtime per input never crashes, and afterwards every injected mbuf is back in
// the pool (the SYN proxy's held client segments included: runtime::shutdown frees them).
//
// Input: byte 0 chooses the setup (bit 0: SYN proxy on for the TCP VIP, bit 1: two workers),
// then records, each an op byte and its operands (see the `op` enum), until the input ends or
// max_frames frames were injected. Frames are mostly built valid (addresses, checksums, sequence
// numbers near what each side expects) so the fuzzer reaches deep TCP and SYN-proxy states;
// raw records reach the header checks. Fuzzer thread only.
#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "fuzz/fuzz_runtime.hpp"
#include "unit/frame_builder.hpp"

namespace {

using namespace sluice::fuzz;
using sluice::test::bytes;
using sluice::test::frame_spec;
using sluice::test::v4;

constexpr unsigned max_frames = 64;
const uint8_t client_mac[6] = {0x02, 0xc1, 0, 0, 0, 0x02};

// The op byte's low three bits; bit 3 a variant, bit 4 the queue (worker), bit 7: do not poll
// after this record (the next one's frame joins the same burst).
enum op : uint8_t {
    raw_client,     // len, bytes: on the client port (bit 3: our MAC as destination)
    raw_servers,    // len, bytes: on the servers port
    tcp_client,     // sport, flags, seq, ack, options, payload: client -> VIP (bit 3: port 81)
    udp_client,     // sport, payload: client -> VIP:9000 (bit 3: port 9001)
    backend_reply,  // which, flags, seq, ack, payload: answers a frame the LB sent a backend
    icmp_client,    // type, payload: ICMP from the client to the VIP (bit 3: to 198.18.0.1)
    odd_ip,         // sport, flags, frag word, ttl, ip options: a TCP SYN with a strange IP header
    passes,         // more worker and control passes (bits 3..4: 1 to 4)
};

// Reads the input front to back; past its end every read gives 0.
struct reader {
    const uint8_t* p;
    size_t n;
    bool done() const { return n == 0; }
    uint8_t u8() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    bytes take(size_t len) {
        len = std::min(len, n);
        bytes out(p, p + len);
        p += len;
        n -= len;
        return out;
    }
};

// Sequence numbers each side expects, learned from what the LB transmitted.
struct conversation {
    uint32_t client_next = 0;  // the client's next sequence number
    uint32_t lb_next = 0;      // what the LB sent the client last: its seq + length (+1 for SYN)
};

struct session {
    std::map<uint16_t, conversation> clients;  // by client source port
    std::vector<bytes> to_backends;            // the last frames the LB sent to backends
    unsigned injected = 0;
};

size_t l4_at(const bytes& f) {
    return 14 + size_t(f[14] & 0x0f) * 4;
}

bool is_ipv4_l4(const bytes& f) {
    return f.size() >= 34 && sluice::test::get16(f, 12) == 0x0800 && f.size() >= l4_at(f) + 8 &&
           (f[23] == 6 || f[23] == 17);
}

// TCP payload length of an IPv4 frame (0 when it is not TCP or is malformed).
uint32_t tcp_payload(const bytes& f) {
    const size_t l4 = l4_at(f);
    if (f[23] != 6 || f.size() < l4 + 20) return 0;
    const size_t total = 14 + sluice::test::get16(f, 16);
    const size_t header = l4 + size_t(f[l4 + 12] >> 4) * 4;
    return total > header ? uint32_t(total - header) : 0;
}

void learn(session& s) {
    for (bytes& f : transmitted(client)) {
        if (!is_ipv4_l4(f) || f[23] != 6) continue;
        const size_t l4 = l4_at(f);
        auto it = s.clients.find(sluice::test::get16(f, l4 + 2));
        if (it == s.clients.end()) continue;
        const bool syn = f[l4 + 13] & 0x02;
        it->second.lb_next = sluice::test::get32(f, l4 + 4) + tcp_payload(f) + (syn ? 1 : 0);
    }
    for (bytes& f : transmitted(servers)) {
        if (!is_ipv4_l4(f)) continue;
        s.to_backends.push_back(std::move(f));
        if (s.to_backends.size() > 8) s.to_backends.erase(s.to_backends.begin());
    }
}

bytes tcp_options(uint8_t bits) {
    bytes o;
    if (bits & 1) o.insert(o.end(), {2, 4, 0x05, 0xb4});                     // MSS 1460
    if (bits & 2) o.insert(o.end(), {1, 3, 3, 7});                           // NOP, WS 7
    if (bits & 4) o.insert(o.end(), {1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0});  // NOP NOP TS
    if (bits & 8) o.insert(o.end(), {1, 1, 4, 2});                           // SACK permitted
    if (bits & 16) o.insert(o.end(), {1, 1, 1, uint8_t(bits >> 5)});         // odd kind
    return o;
}

bytes from_client(frame_spec spec) {
    spec.src = v4(198, 18, 0, 2);
    bytes f = sluice::test::build_frame(spec);
    std::memcpy(f.data(), port_mac(client), 6);
    std::memcpy(f.data() + 6, client_mac, 6);
    return f;
}

bytes client_tcp(session& s, reader& in, bool port81) {
    frame_spec spec;
    spec.dst = v4(198, 18, 0, 10);
    spec.dst_port = port81 ? 81 : 80;
    spec.src_port = uint16_t(40000 + in.u8() % 8);
    spec.tcp_flags = in.u8();
    conversation& c = s.clients[spec.src_port];
    const int8_t seq_off = int8_t(in.u8()), ack_off = int8_t(in.u8());
    if (spec.tcp_flags & 0x02) c.client_next = 1000000u * spec.src_port;
    spec.tcp_seq = c.client_next + uint32_t(int32_t(seq_off) * (seq_off & 1 ? 1 : 4096));
    spec.tcp_ack = c.lb_next + uint32_t(int32_t(ack_off));
    spec.tcp_options = tcp_options(in.u8());
    spec.payload = bytes(in.u8() % 64, 'x');
    c.client_next = spec.tcp_seq + uint32_t(spec.payload.size()) + (spec.tcp_flags & 3 ? 1 : 0);
    return from_client(spec);
}

bytes client_udp(reader& in, bool port9001) {
    frame_spec spec;
    spec.protocol = 17;
    spec.dst = v4(198, 18, 0, 10);
    spec.dst_port = port9001 ? 9001 : 9000;
    spec.src_port = uint16_t(50000 + in.u8() % 8);
    spec.payload = bytes(in.u8() % 64, 'u');
    return from_client(spec);
}

// Answers one of the last frames the LB sent a backend, as that backend.
bytes backend_answer(session& s, reader& in) {
    const uint8_t which = in.u8(), flags = in.u8();
    const int8_t seq_off = int8_t(in.u8()), ack_off = int8_t(in.u8());
    const size_t payload = in.u8() % 64;
    if (s.to_backends.empty()) return {};
    const bytes& f = s.to_backends[which % s.to_backends.size()];
    const size_t l4 = l4_at(f);
    frame_spec spec;
    spec.protocol = f[23];
    spec.src = v4(f[30], f[31], f[32], f[33]);
    spec.dst = v4(f[26], f[27], f[28], f[29]);
    spec.src_port = sluice::test::get16(f, l4 + 2);
    spec.dst_port = sluice::test::get16(f, l4);
    spec.payload = bytes(payload, 'b');
    if (spec.protocol == 6 && f.size() >= l4 + 20) {
        const uint32_t their_seq = sluice::test::get32(f, l4 + 4);
        const uint32_t their_ack = sluice::test::get32(f, l4 + 8);
        const bool syn = f[l4 + 13] & 0x02;
        spec.tcp_flags = flags;
        // A SYN is answered from the backend's own ISN; anything else continues at its ack.
        spec.tcp_seq = (syn ? 0x5000000u * uint32_t(f[33]) : their_ack) + uint32_t(seq_off);
        spec.tcp_ack = their_seq + tcp_payload(f) + (syn ? 1 : 0) + uint32_t(int32_t(ack_off));
        spec.tcp_options = tcp_options(flags & 0x02 ? 0x0f : 0);
    }
    bytes out = sluice::test::build_frame(spec);
    std::memcpy(out.data(), port_mac(servers), 6);
    std::memcpy(out.data() + 6, f.data(), 6);
    return out;
}

bytes odd_ip_frame(reader& in) {
    frame_spec spec;
    spec.dst = v4(198, 18, 0, 10);
    spec.src_port = uint16_t(40000 + in.u8() % 8);
    spec.tcp_flags = in.u8();
    spec.frag = uint16_t(in.u8() << 8 | in.u8());
    spec.ttl = in.u8();
    const uint8_t opt = in.u8();
    spec.ip_options = bytes(size_t(opt % 11) * 4, opt);
    return from_client(spec);
}

bytes raw_frame(reader& in, bool our_mac, uint16_t port) {
    bytes f = in.take(in.u8() + (in.u8() & 1 ? 256 : 0));
    if (our_mac && f.size() >= 6) std::memcpy(f.data(), port_mac(port), 6);
    return f;
}

// Builds the frame of one record (empty: none) and says where it goes.
bytes record_frame(session& s, reader& in, uint8_t code, uint16_t& port) {
    const bool variant = code & 0x08;
    port = client;
    switch (op(code & 7)) {
        case raw_client:
            return raw_frame(in, variant, client);
        case raw_servers:
            port = servers;
            return raw_frame(in, variant, servers);
        case tcp_client:
            return client_tcp(s, in, variant);
        case udp_client:
            return client_udp(in, variant);
        case backend_reply:
            port = servers;
            return backend_answer(s, in);
        case icmp_client: {
            frame_spec spec;
            spec.protocol = 1;
            spec.dst = variant ? v4(198, 18, 0, 1) : v4(198, 18, 0, 10);
            spec.payload = in.take(in.u8() % 64);
            return from_client(spec);
        }
        case odd_ip:
            return odd_ip_frame(in);
        case passes:
            run_passes(1 + ((code >> 3) & 3));
            return {};
    }
    return {};
}

void run_records(session& s, reader& in) {
    while (!in.done() && s.injected < max_frames) {
        const uint8_t code = in.u8();
        uint16_t port;
        const bytes f = record_frame(s, in, code, port);
        if (!f.empty() && inject(port, f.data(), f.size(), (code >> 4) & 1)) ++s.injected;
        if (!(code & 0x80)) run_passes(1);
        learn(s);
    }
    run_passes(3);
    learn(s);
}

unsigned held_by_syn_proxy() {
    unsigned held = 0;
    for (unsigned w = 0; w < workers(); ++w) held += rt().worker_at(w).proxy_held();
    return held;
}

// What an input did, for whoever writes seeds (SLUICE_FUZZ_VERBOSE): the counters that moved.
void print_counters(unsigned held) {
    for (const auto& [name, value] : rt().readings().stats())
        if (value != 0) fprintf(stderr, "  %s %llu\n", name.c_str(), (unsigned long long)value);
    fprintf(stderr, "  (held by the SYN proxy: %u)\n", held);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    init_process("fuzz_frame_path");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    reader in{data + 1, size - 1};
    const bool syn_proxy = data[0] & 1;
    const unsigned n_workers = data[0] & 2 ? 2 : 1;
    if (frames_in_use() != 0) abort();  // an earlier input's leak, caught there already
    start_runtime(fuzz_config(n_workers, syn_proxy));
    resolve_neighbors();
    session s;
    run_records(s, in);
    quiesce_workers();
    const unsigned held = held_by_syn_proxy();
    if (std::getenv("SLUICE_FUZZ_VERBOSE")) print_counters(held);
    stop_runtime();
    if (const unsigned in_use = frames_in_use(); in_use != 0) {
        fprintf(stderr,
                "frame_path: %u frames of the fuzzer's pool not returned after shutdown (%u "
                "were held by the SYN proxy): a leak\n",
                in_use, held);
        abort();
    }
    return 0;
}
