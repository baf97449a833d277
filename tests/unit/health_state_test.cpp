// Unit tests for src/health/health_state: the rise/fall state machine of one backend.
#include "health/health_state.hpp"

#include <doctest/doctest.h>

#include <initializer_list>

using sluice::health::health_state;

// ---- health_state ----

TEST_CASE("an up backend goes down on exactly the fall-th consecutive failure") {
    health_state s(2, 3, true);
    CHECK_FALSE(s.record(false));
    CHECK_FALSE(s.record(false));
    CHECK(s.up());
    CHECK(s.consecutive_failures() == 2);
    CHECK(s.record(false));
    CHECK_FALSE(s.up());
    CHECK_FALSE(s.record(false));  // further failures change nothing
    CHECK(s.consecutive_failures() == 4);
}

TEST_CASE("a down backend comes up on exactly the rise-th consecutive success") {
    health_state s(3, 1, false);
    CHECK_FALSE(s.record(true));
    CHECK_FALSE(s.record(true));
    CHECK_FALSE(s.up());
    CHECK(s.record(true));
    CHECK(s.up());
    CHECK(s.consecutive_successes() == 3);
    CHECK(s.consecutive_failures() == 0);
}

TEST_CASE("flapping results never change the state while no run reaches rise or fall") {
    for (bool initially_up : {true, false}) {
        CAPTURE(initially_up);
        health_state s(2, 2, initially_up);
        for (int i = 0; i < 50; ++i) {
            CHECK_FALSE(s.record(i % 2 == 0));
            CHECK(s.up() == initially_up);
        }
        // A success between failures restarts the failure run (fall 3: F F S F F stays up).
        health_state t(2, 3, true);
        for (bool ok : {false, false, true, false, false}) CHECK_FALSE(t.record(ok));
        CHECK(t.up());
        CHECK(t.record(false));
    }
}

TEST_CASE("force_down takes an up backend down, and only rise successes bring it back") {
    health_state s(2, 3, true);
    s.record(true);
    s.record(true);
    CHECK(s.force_down());
    CHECK_FALSE(s.up());
    CHECK(s.consecutive_successes() == 0);
    CHECK_FALSE(s.record(true));
    CHECK(s.record(true));
    CHECK(s.up());
    // When already down, it restarts the rise run and reports no change.
    health_state d(2, 3, false);
    d.record(true);
    CHECK_FALSE(d.force_down());
    CHECK_FALSE(d.record(true));
    CHECK(d.record(true));
}

TEST_CASE("rise and fall of 0 act as 1; set_thresholds keeps the state and judges from then on") {
    health_state s(0, 0, true);
    CHECK(s.rise() == 1);
    CHECK(s.fall() == 1);
    CHECK(s.record(false));
    CHECK(s.record(true));
    health_state t(5, 5, true);
    t.record(false);
    t.record(false);
    t.set_thresholds(5, 3);
    CHECK(t.up());
    CHECK(t.record(false));  // the run of 2 continues: the 3rd failure reaches fall 3
}
