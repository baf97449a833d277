// Helper of tests/cli/journal_fields.py: logs as sluiced does (sink from JOURNAL_STREAM), one
// message with VIP and BACKEND fields and one below the minimum level, then exits.
#include "common/log.hpp"

int main() {
    namespace lg = sluice::log;
    lg::set_sink(lg::detect_sink());
    lg::set_min_level(lg::level::info);
    lg::write_fields(lg::level::warn, {{"VIP", "web"}, {"BACKEND", "198.19.0.11:80"}},
                     "health: vip %s backend %s: up -> down", "web", "198.19.0.11:80");
    lg::write(lg::level::debug, "not written: below the level");
    lg::write(lg::level::error, "plain %s", "error");
    return 0;
}
