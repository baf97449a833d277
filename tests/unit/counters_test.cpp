// The counter tables of sluice/counters.hpp are well formed: they generate stats keys, JSON,
// telemetry and Prometheus families, so a malformed row would break all of them at once.
#include "sluice/counters.hpp"

#include <doctest/doctest.h>

#include <set>
#include <span>
#include <string>

using namespace sluice;

namespace {

void check_table(std::span<const counter_def> defs) {
    std::set<std::string_view> keys, families;
    for (size_t i = 0; i < defs.size(); ++i) {
        const counter_def& d = defs[i];
        CAPTURE(d.key);
        CHECK(keys.insert(d.key).second);  // keys unique
        CHECK(d.family.starts_with("sluice_"));
        CHECK((d.kind == metric_kind::counter) == d.family.ends_with("_total"));
        CHECK(d.label.empty() == d.value.empty());
        const bool first_of_family = i == 0 || defs[i - 1].family != d.family;
        // HELP on a family's first row only, and a family's rows adjacent.
        CHECK(d.help.empty() != first_of_family);
        if (first_of_family) CHECK(families.insert(d.family).second);
        if (!first_of_family) {
            CHECK(d.kind == defs[i - 1].kind);
            CHECK(d.label == defs[i - 1].label);
            CHECK(!d.label.empty());  // members of a family differ by their label
        }
    }
}

}  // namespace

TEST_CASE("every counter table: unique keys, adjacent families, one HELP per family") {
    // Property: each table row's family, type, label and HELP are consistent with its neighbours.
    check_table(worker_counter_defs);
    check_table(control_counter_defs);
    check_table(backend_counter_defs);
    check_table(port_counter_defs);
}

TEST_CASE("the enums index the tables in order") {
    // Property: enum value k names row k of its table (the X-macro order).
    CHECK(worker_counter_defs[size_t(worker_counter::rx_packets)].key == "rx_packets");
    CHECK(worker_counter_defs[size_t(worker_counter::flows_active)].key == "flows_active");
    CHECK(control_counter_defs[size_t(control_counter::kernel_sent)].key == "kernel_sent");
    CHECK(backend_counter_defs[size_t(backend_counter::bytes_from_backend)].key ==
          "bytes_from_backend");
    CHECK(port_counter_defs[size_t(port_counter::link_up)].key == "link_up");
    CHECK(std::size(worker_counter_defs) == worker_counter_count);
    CHECK(std::size(port_counter_defs) == port_counter_count);
}
