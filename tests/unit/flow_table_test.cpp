// Unit tests for src/flow/flow_table: two-direction index, capacity limits and timer-wheel aging,
// checked against a std::map model.
#include "flow/flow_table.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

using sluice::flow::direction;
using sluice::flow::flow_entry;
using sluice::flow::flow_hash;
using sluice::flow::flow_key;
using sluice::flow::flow_table;

namespace {

// A table in 64-byte aligned memory, as a worker allocates it from hugepages.
struct table_fixture {
    explicit table_fixture(uint32_t capacity, uint32_t now = 0)
        : memory(std::aligned_alloc(64, (flow_table::required_bytes(capacity) + 63) / 64 * 64)),
          endpoints(std::make_unique<sluice::flow::endpoint_table>()),
          table(memory.get(), capacity, now, endpoints.get()) {
        table.set_local_address(0, 4, 0, local_v4);
        table.set_local_address(0, 6, 0, local_v6);
    }
    static constexpr uint8_t local_v4[16] = {198, 18, 255, 1};
    static constexpr uint8_t local_v6[16] = {0x20, 0x01, 0, 2, 0, 0, 0,    0,
                                             0,    0,    0, 0, 0, 0, 0xff, 1};
    struct free_deleter {
        void operator()(void* p) const { std::free(p); }
    };
    std::unique_ptr<void, free_deleter> memory;
    std::unique_ptr<sluice::flow::endpoint_table> endpoints;
    flow_table table;
};

// Flow `id` (any 32-bit value): client 198.18.x.x:port -> VIP 198.19.0.1:80, reply from backend
// 198.19.x.x:8080 to the table's local address 198.18.255.1:port. Both keys are unique per id.
// family 6 puts the same id into 2001:2:: addresses.
struct flow_spec {
    uint32_t id;
    uint8_t family = 4;
    uint8_t protocol = 6;
};

void put_id(uint8_t* addr, uint8_t family, uint8_t net, uint32_t id) {
    if (family == 4) {
        addr[0] = 198;
        addr[1] = net;
        addr[2] = uint8_t(id >> 24);
        addr[3] = uint8_t(id >> 16);
    } else {
        const uint8_t prefix[6] = {0x20, 0x01, 0x00, 0x02, 0, net};
        std::memcpy(addr, prefix, 6);
        addr[12] = uint8_t(id >> 24);
        addr[13] = uint8_t(id >> 16);
    }
}

flow_key client_key(const flow_spec& f) {
    flow_key k;
    std::memset(&k, 0, sizeof k);
    put_id(k.src, f.family, 18, f.id);
    put_id(k.dst, f.family, 19, 0x00010000);
    k.src_port = uint16_t(f.id);
    k.dst_port = 80;
    k.protocol = f.protocol;
    k.family = f.family;
    return k;
}

// Each flow gets its own backend id (its entry's index: unique among live flows), whose endpoint
// row carries the VIP, the per-flow backend address and the protocol.
void fill_entry(table_fixture& fx, flow_entry& e, const flow_spec& f) {
    const flow_key k = client_key(f);
    sluice::flow::endpoint_identity who;
    std::memcpy(who.vip, k.dst, 16);
    put_id(who.backend, f.family, 19, f.id);
    who.vip_port = k.dst_port;
    who.backend_port = 8080;
    who.protocol = f.protocol;
    who.vip_family = who.backend_family = f.family;
    const uint32_t id = fx.table.index_of(&e);
    REQUIRE(id < sluice::model::max_backends);
    fx.endpoints->set(id, who, 0);
    e.backend_id = uint16_t(id);
    std::memcpy(e.client_addr, k.src, 16);
    e.client_port = k.src_port;
    if (f.family == 6) e.flags |= sluice::flow::flow_flag::client_ipv6;
    e.local_port = uint16_t(f.id);
    e.port_backend = 0;
}

flow_key reply_of(const flow_spec& f) {
    flow_key k;
    std::memset(&k, 0, sizeof k);
    put_id(k.src, f.family, 19, f.id);
    std::memcpy(k.dst, f.family == 4 ? table_fixture::local_v4 : table_fixture::local_v6, 16);
    k.src_port = 8080;
    k.dst_port = uint16_t(f.id);
    k.protocol = f.protocol;
    k.family = f.family;
    return k;
}

// Recovers the id from an entry (inverse of client_key).
uint32_t id_of(const flow_entry& e) {
    const uint8_t* a = sluice::flow::client_family(e) == 4 ? e.client_addr + 2 : e.client_addr + 12;
    return uint32_t(a[0]) << 24 | uint32_t(a[1]) << 16 | e.client_port;
}

flow_entry* insert(table_fixture& fx, const flow_spec& f, uint32_t expire) {
    return fx.table.insert(expire, [&](flow_entry& e) { fill_entry(fx, e, f); });
}

sluice::flow::flow_hit find(const flow_table& t, const flow_key& k) {
    return t.lookup(k, flow_hash(k));
}

// Expires up to `now` and returns the ids expired, in order.
std::vector<uint32_t> expire_ids(flow_table& t, uint32_t now) {
    std::vector<uint32_t> ids;
    uint32_t n = t.expire(now, [&](flow_entry& e) { ids.push_back(id_of(e)); });
    CHECK(n == ids.size());
    return ids;
}

}  // namespace

TEST_CASE("an inserted flow is found by its client key and by its reply key") {
    // Property: client key finds the entry from_client, reply key the same entry from_backend.
    table_fixture fx(256);
    std::vector<std::pair<flow_spec, flow_entry*>> flows;
    for (uint32_t i = 0; i < 200; ++i) {
        flow_spec f{0x00010000u * i + i, uint8_t(i % 2 ? 4 : 6), uint8_t(i % 3 ? 6 : 17)};
        flow_entry* e = insert(fx, f, 100);
        REQUIRE(e != nullptr);
        flows.emplace_back(f, e);
    }
    CHECK(fx.table.size() == 200);
    for (auto& [f, e] : flows) {
        auto c = find(fx.table, client_key(f));
        CHECK(c.entry == e);
        CHECK(c.dir == direction::from_client);
        auto r = find(fx.table, reply_of(f));
        CHECK(r.entry == e);
        CHECK(r.dir == direction::from_backend);
        CHECK(id_of(*e) == f.id);
    }
}

TEST_CASE("unknown keys miss") {
    // Property: keys differing from an inserted one in any single field are not found.
    table_fixture fx(64);
    flow_spec f{0x00070007};
    REQUIRE(insert(fx, f, 100) != nullptr);
    const flow_key k = client_key(f);
    std::vector<flow_key> others;
    for (int field = 0; field < 6; ++field) {
        flow_key o = k;
        switch (field) {
            case 0:
                o.src[3] ^= 1;
                break;
            case 1:
                o.dst[0] ^= 0x80;
                break;
            case 2:
                ++o.src_port;
                break;
            case 3:
                ++o.dst_port;
                break;
            case 4:
                o.protocol = 17;
                break;
            case 5:
                o.family = 6;
                break;
        }
        others.push_back(o);
    }
    flow_key swapped = k;  // the client key read backwards is not the reply key
    std::swap(swapped.src, swapped.dst);
    std::swap(swapped.src_port, swapped.dst_port);
    others.push_back(swapped);
    for (size_t i = 0; i < others.size(); ++i) {
        CAPTURE(i);
        CHECK(find(fx.table, others[i]).entry == nullptr);
    }
    CHECK(find(fx.table, k).entry != nullptr);
}

TEST_CASE("a full table refuses the next insert and keeps every entry") {
    // Property: capacity N takes N flows, refuses the next with nullptr, and keeps all N findable.
    const uint32_t n = 1000;
    table_fixture fx(n);
    std::vector<flow_entry*> entries;
    for (uint32_t i = 0; i < n; ++i) {
        flow_entry* e = insert(fx, {i * 0x10001u}, 50);
        REQUIRE(e != nullptr);
        entries.push_back(e);
    }
    CHECK(fx.table.size() == n);
    CHECK(insert(fx, {0xfffefffe}, 50) == nullptr);
    CHECK(insert(fx, {0xfffdfffd}, 50) == nullptr);
    CHECK(fx.table.size() == n);
    CHECK(std::set<flow_entry*>(entries.begin(), entries.end()).size() == n);
    for (uint32_t i = 0; i < n; ++i) {
        CHECK(find(fx.table, client_key({i * 0x10001u})).entry == entries[i]);
        CHECK(find(fx.table, reply_of({i * 0x10001u})).entry == entries[i]);
        CHECK(id_of(*entries[i]) == i * 0x10001u);
    }
    CHECK(find(fx.table, client_key({0xfffefffe})).entry == nullptr);
}

TEST_CASE("an insert refused for a full index bucket leaves the table unchanged") {
    // Property: an insert refused for full buckets leaves the table unchanged, as the header says.
    const uint32_t cap = 64;  // 32 buckets of 8 slots
    auto in_bucket0 = [](const flow_key& k) {
        uint64_t h = flow_hash(k);
        return (uint32_t(h) & 31) == 0 && (uint32_t(h >> 24) & 31) == 0;
    };
    for (bool reply_side : {false, true}) {
        CAPTURE(reply_side);
        table_fixture fx(cap);
        // Ids whose client (or reply) key has bucket 0 as both choices, the other key not.
        auto colliding = [&](uint32_t id) {
            bool c = in_bucket0(client_key({id})), r = in_bucket0(reply_of({id}));
            return reply_side ? r && !c : c && !r;
        };
        std::vector<uint32_t> ids;
        for (uint32_t id = 1; ids.size() < 9 && id < 10'000'000; ++id)
            if (colliding(id)) ids.push_back(id);
        REQUIRE(ids.size() == 9);

        // Eight flows fill bucket 0; the ninth cannot be indexed.
        std::vector<std::pair<uint32_t, flow_entry*>> live;
        for (size_t i = 0; i < 8; ++i) {
            flow_entry* e = insert(fx, {ids[i]}, 100);
            REQUIRE(e != nullptr);
            live.emplace_back(ids[i], e);
        }
        CHECK(insert(fx, {ids[8]}, 100) == nullptr);
        CHECK(fx.table.size() == 8);
        CHECK(find(fx.table, client_key({ids[8]})).entry == nullptr);
        CHECK(find(fx.table, reply_of({ids[8]})).entry == nullptr);

        // The rest of the capacity is still usable, without touching the eight flows.
        uint32_t id = 0x40000000;
        while (live.size() < cap) {
            ++id;
            if (in_bucket0(client_key({id})) || in_bucket0(reply_of({id}))) continue;
            flow_entry* e = insert(fx, {id}, 100);
            CHECK_MESSAGE(e != nullptr, "insert failed with ", live.size(), " of ", cap, " flows");
            if (e == nullptr) break;
            live.emplace_back(id, e);
        }
        CHECK(fx.table.size() == live.size());
        std::set<flow_entry*> distinct;
        for (auto& [flow_id, e] : live) {
            const uint32_t fid = flow_id;  // CAPTURE cannot name a structured binding in clang
            CAPTURE(fid);
            distinct.insert(e);
            CHECK(find(fx.table, client_key({fid})).entry == e);
            CHECK(find(fx.table, reply_of({fid})).entry == e);
        }
        CHECK(distinct.size() == cap);
    }
}

TEST_CASE("flows expire at their deadline, not before, with one callback each") {
    // Property: tick by tick, each flow expires exactly at its deadline, one callback each.
    table_fixture fx(128, 1000);
    std::map<uint32_t, uint32_t> deadline;  // id -> tick
    std::mt19937 rng(7);
    for (uint32_t i = 0; i < 100; ++i) {
        uint32_t d = 1000 + 1 + rng() % 300;
        deadline[i + 1] = d;
        REQUIRE(insert(fx, {i + 1}, d) != nullptr);
    }
    std::map<uint32_t, int> calls;
    for (uint32_t now = 1001; now <= 1301; ++now) {
        for (uint32_t id : expire_ids(fx.table, now)) {
            CAPTURE(id);
            CHECK(deadline[id] == now);
            ++calls[id];
            CHECK(find(fx.table, client_key({id})).entry == nullptr);
            CHECK(find(fx.table, reply_of({id})).entry == nullptr);
        }
    }
    CHECK(calls.size() == 100);
    for (auto& [id, n] : calls) CHECK(n == 1);
    CHECK(fx.table.size() == 0);
}

TEST_CASE("a jump in time expires exactly the flows whose deadline passed") {
    // Property: expire(now) after a jump removes the flows with deadline <= now, keeps the others.
    table_fixture fx(64);
    for (uint32_t i = 1; i <= 50; ++i) REQUIRE(insert(fx, {i}, i * 10) != nullptr);
    auto ids = expire_ids(fx.table, 255);
    CHECK(ids.size() == 25);
    for (uint32_t id : ids) CHECK(id * 10 <= 255);
    for (uint32_t i = 26; i <= 50; ++i) CHECK(find(fx.table, client_key({i})).entry != nullptr);
    CHECK(expire_ids(fx.table, 255).empty());
    CHECK(expire_ids(fx.table, 200).empty());  // time going backwards expires nothing
    CHECK(expire_ids(fx.table, 500).size() == 25);
}

TEST_CASE("set_expire to a later tick keeps the flow alive until the new deadline") {
    // Property: a deadline moved forward (lazily) survives its old slot and expires at the new one.
    table_fixture fx(16);
    flow_entry* e = insert(fx, {1}, 100);
    REQUIRE(e != nullptr);
    uint32_t now = 0;
    for (; now < 50; ++now) CHECK(expire_ids(fx.table, now + 1).empty());
    fx.table.set_expire(e, 200);
    for (; now < 150; ++now) CHECK(expire_ids(fx.table, now + 1).empty());
    fx.table.set_expire(e, 5000);  // beyond one wheel turn from its slot
    for (; now < 4999; ++now) REQUIRE(expire_ids(fx.table, now + 1).empty());
    CHECK(find(fx.table, client_key({1})).entry == e);
    CHECK(expire_ids(fx.table, 5000) == std::vector<uint32_t>{1});
}

TEST_CASE("set_expire to an earlier tick shortens the flow's life") {
    // Property: a deadline moved back expires then; one already past expires at the next tick.
    table_fixture fx(16);
    flow_entry* a = insert(fx, {1}, 1000);
    flow_entry* b = insert(fx, {2}, 1000);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    for (uint32_t now = 1; now <= 10; ++now) CHECK(expire_ids(fx.table, now).empty());
    fx.table.set_expire(a, 30);
    fx.table.set_expire(b, 5);  // already due
    CHECK(expire_ids(fx.table, 11) == std::vector<uint32_t>{2});
    for (uint32_t now = 12; now < 30; ++now) CHECK(expire_ids(fx.table, now).empty());
    CHECK(expire_ids(fx.table, 30) == std::vector<uint32_t>{1});
}

TEST_CASE("remove frees the slot for a new flow") {
    // Property: in a full table each remove allows exactly one insert; removed flows are gone.
    const uint32_t n = 32;
    table_fixture fx(n);
    std::vector<flow_entry*> entries;
    for (uint32_t i = 0; i < n; ++i) entries.push_back(insert(fx, {i + 1}, 10 + i));
    REQUIRE(insert(fx, {999}, 10) == nullptr);
    std::vector<uint32_t> ids(n);
    for (uint32_t i = 0; i < n; ++i) ids[i] = i + 1;
    for (uint32_t round = 0; round < 3 * n; ++round) {
        uint32_t victim = round % n;
        fx.table.remove(entries[victim], [](flow_entry&) {});
        CHECK(fx.table.size() == n - 1);
        CHECK(find(fx.table, client_key({ids[victim]})).entry == nullptr);
        CHECK(find(fx.table, reply_of({ids[victim]})).entry == nullptr);
        uint32_t id = victim + 1 + (round + 1) * 1000;
        ids[victim] = id;
        entries[victim] = insert(fx, {id}, 10 + victim);
        REQUIRE(entries[victim] != nullptr);
        CHECK(insert(fx, {999}, 10) == nullptr);
        CHECK(find(fx.table, client_key({id})).entry == entries[victim]);
    }
    // Every flow was replaced: exactly the ids of the last round are alive and expire.
    auto expired = expire_ids(fx.table, 100);
    CHECK(std::set<uint32_t>(expired.begin(), expired.end()) ==
          std::set<uint32_t>(ids.begin(), ids.end()));
    for (uint32_t id : expired) CHECK(id > 2 * n * 1000);
}

TEST_CASE("a sweep in pieces visits each live flow once and may remove what it visits") {
    // Property: for_each_in over consecutive ranges sees every live flow exactly once, never a
    // freed one (also not one whose insert was refused), and removing inside the sweep is safe.
    table_fixture fx(64);
    std::vector<flow_entry*> entries;
    for (uint32_t id = 1; id <= 40; ++id) entries.push_back(insert(fx, {id}, 100));
    for (uint32_t id = 1; id <= 40; id += 4) fx.table.remove(entries[id - 1], [](flow_entry&) {});
    REQUIRE(fx.table.size() == 30);
    std::multiset<uint32_t> seen;
    for (uint32_t begin = 0; begin < 64; begin += 7) {
        fx.table.for_each_in(begin, begin + 7, [&](flow_entry& e) {
            seen.insert(id_of(e));
            if (id_of(e) % 2 == 0) fx.table.remove(&e, [](flow_entry&) {});
        });
    }
    CHECK(seen.size() == 30);
    for (uint32_t id = 1; id <= 40; ++id) CHECK(seen.count(id) == (id % 4 == 1 ? 0u : 1u));
    CHECK(fx.table.size() == 10);  // the 20 even ids went
    uint32_t left = 0;
    fx.table.for_each_in(0, 1000, [&](flow_entry& e) {
        CHECK(id_of(e) % 2 == 1);
        ++left;
    });
    CHECK(left == 10);
}

TEST_CASE("deadlines longer than the wheel expire at the right tick") {
    // Property: deadlines beyond one wheel turn expire exactly on time, stepping or jumping.
    const std::vector<uint32_t> deadlines = {4096, 4097, 8191, 10000, 3 * 4096 + 7};
    for (uint32_t start : {0u, 0xffffe000u}) {  // the second run wraps the 32-bit tick
        CAPTURE(start);
        table_fixture step(16, start), jump(16, start);
        for (uint32_t i = 0; i < deadlines.size(); ++i) {
            REQUIRE(insert(step, {i + 1}, start + deadlines[i]) != nullptr);
            REQUIRE(insert(jump, {i + 1}, start + deadlines[i]) != nullptr);
        }
        std::map<uint32_t, uint32_t> expired_at;
        for (uint32_t t = 1; t <= 3 * 4096 + 10; ++t)
            for (uint32_t id : expire_ids(step.table, start + t)) expired_at[id] = t;
        for (uint32_t i = 0; i < deadlines.size(); ++i) CHECK(expired_at[i + 1] == deadlines[i]);

        CHECK(expire_ids(jump.table, start + 4095).empty());
        CHECK(expire_ids(jump.table, start + 4097).size() == 2);
        CHECK(expire_ids(jump.table, start + 9999).size() == 1);
        CHECK(expire_ids(jump.table, start + 10000) == std::vector<uint32_t>{4});
        CHECK(expire_ids(jump.table, start + 12294).empty());
        CHECK(expire_ids(jump.table, start + 12295) == std::vector<uint32_t>{5});
        CHECK(jump.table.size() == 0);
    }
}

TEST_CASE("random inserts, removes, deadline moves and expiries agree with a std::map model") {
    // Property: 100k random operations agree with a std::map model: size, lookups, expiries.
    const uint32_t cap = 2048;
    const uint32_t start = 0xfff00000;
    table_fixture fx(cap, start);
    struct model_flow {
        uint32_t deadline;
        flow_entry* entry;
        uint8_t family;
    };
    std::map<uint32_t, model_flow> model;
    std::mt19937 rng(100000);
    uint32_t now = start, next_id = 1;
    auto spec = [&](uint32_t id) { return flow_spec{id, model.at(id).family}; };
    auto random_live = [&]() {
        auto it = model.lower_bound(uint32_t(rng() % next_id));
        return it == model.end() ? model.begin() : it;
    };
    for (int op = 0; op < 100000; ++op) {
        CAPTURE(op);
        const unsigned kind = rng() % 10;
        if (kind < 5) {  // insert
            uint32_t id = next_id++;
            uint8_t family = rng() % 2 ? 4 : 6;
            uint32_t deadline = now + 1 + rng() % (3 * 4096);
            flow_entry* e = insert(fx, {id, family}, deadline);
            if (model.size() == cap) {
                CHECK(e == nullptr);
            } else {
                REQUIRE(e != nullptr);
                model[id] = {deadline, e, family};
            }
        } else if (kind < 7 && !model.empty()) {  // remove
            auto it = random_live();
            fx.table.remove(it->second.entry, [](flow_entry&) {});
            model.erase(it);
        } else if (kind < 9 && !model.empty()) {  // move a deadline either way
            auto it = random_live();
            uint32_t deadline = now + 1 + rng() % (3 * 4096);
            fx.table.set_expire(it->second.entry, deadline);
            it->second.deadline = deadline;
        } else {  // advance time
            now += rng() % 8 == 0 ? rng() % 6000 : rng() % 20;
            std::set<uint32_t> want;
            for (auto& [id, f] : model)
                if (int32_t(f.deadline - now) <= 0) want.insert(id);
            auto got = expire_ids(fx.table, now);
            std::set<uint32_t> got_set(got.begin(), got.end());
            CHECK(got.size() == got_set.size());
            REQUIRE(got_set == want);
            for (uint32_t id : want) model.erase(id);
        }
        REQUIRE(fx.table.size() == model.size());
        if (op % 5000 == 0) {
            for (auto& [id, f] : model) {
                REQUIRE(find(fx.table, client_key(spec(id))).entry == f.entry);
                REQUIRE(find(fx.table, reply_of(spec(id))).dir == direction::from_backend);
            }
            // A sweep visits exactly the live flows.
            std::set<uint32_t> swept;
            fx.table.for_each_in(0, cap, [&](flow_entry& e) { swept.insert(id_of(e)); });
            REQUIRE(swept.size() == model.size());
            for (auto& [id, f] : model) REQUIRE(swept.count(id) == 1);
            for (uint32_t k = 0; k < 100; ++k) {
                uint32_t id = rng() % next_id;
                if (model.count(id)) continue;
                CHECK(find(fx.table, client_key({id, 4})).entry == nullptr);
                CHECK(find(fx.table, client_key({id, 6})).entry == nullptr);
            }
        }
    }
}

TEST_CASE("a flow's keys are its client side and its backend id's endpoint row") {
    // Property: both keys are rebuilt from the entry (client side) and the endpoint row (VIP,
    // backend, protocol); setting a row to the identity it has leaves it as it is, only the
    // VIP id moves.
    table_fixture fx(16);
    for (uint8_t family : {uint8_t(4), uint8_t(6)}) {
        CAPTURE(int(family));
        const flow_spec f{0x00050005, family, 17};
        flow_entry* e = insert(fx, f, 100);
        REQUIRE(e != nullptr);
        CHECK(sizeof(flow_entry) == 64);
        CHECK(fx.table.client_key(*e) == client_key(f));
        CHECK(fx.table.reply_key(*e) == reply_of(f));
        CHECK_FALSE(fx.table.is_tcp(*e));
        const sluice::flow::flow_endpoint& row = fx.table.endpoint(*e);
        const sluice::flow::endpoint_identity same = row;
        fx.endpoints->set(e->backend_id, same, 42);
        CHECK(fx.table.vip_id(*e) == 42);
        CHECK(fx.table.client_key(*e) == client_key(f));
        CHECK(fx.table.reply_key(*e) == reply_of(f));
        fx.table.remove(e, [](flow_entry&) {});
    }
}
