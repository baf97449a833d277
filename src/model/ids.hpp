#pragma once
// Ids the data path uses to name service objects across snapshots: backends and VIPs keep their
// id for as long as they are configured (control::backend_registry assigns them), so flows,
// frames handed between workers and per-worker tables indexed by id survive reloads. Also the
// operator's states of a backend and the causes of flow resets, which workers count.
#include <cstdint>

namespace sluice::model {

inline constexpr uint32_t max_backends = 16384;
inline constexpr uint32_t no_backend_id = 0xffffffff;
// A reload never gives a configured VIP's id to another VIP; a removed VIP's id comes back as
// late as possible (control::backend_registry::vip_id).
inline constexpr uint32_t max_vips = 4096;
inline constexpr uint16_t no_vip_id = 0xffff;

// Operator state of a backend (sluicectl), kept across reloads for backends that stay.
enum class backend_admin : uint8_t { up, draining, disabled, removing };
inline const char* backend_admin_name(backend_admin a) {
    switch (a) {
        case backend_admin::up:
            return "up";
        case backend_admin::draining:
            return "draining";
        case backend_admin::disabled:
            return "disabled";
        case backend_admin::removing:
            return "removing";
    }
    return "?";
}

// Why flows are being reset; each cause has its own worker counter.
enum class reset_cause : uint8_t { drain_timeout, disabled, backend_down };
struct reset_target {
    uint32_t backend_id;
    reset_cause cause;
};

}  // namespace sluice::model
