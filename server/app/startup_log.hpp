#pragma once
// What `fortisim serve` says about its start besides the engine's own events: the scenario it
// serves (every fault knob, as pebble logs its own), the state it resumed with --state, and a
// start-up failure's one line. With --log-format json each is a JSON object on a line of its own,
// like every other line on stderr, so `jq` reads the log from its first line; in text, lines a
// person reads.

#include "server/core/engine/engine.hpp"

#include <string>

namespace fortisim::app {

/// The scenario's knobs: "fortisim: scenario …" lines on stderr (text), or one "scenario" event
/// through the engine's log (json): {"event": "scenario", "name", "file", "seed", "licences",
/// "unknown_codes", "hardware_tokens", "rules": [{"name", "then", "times", "probability"}],
/// "ocsp", "ocsp_hosts"}.
void log_scenario(const core::scenario& s, core::engine& engine, bool json);

/// The "state" event's fields for --state `file`: whether it held a world to resume (`existed`:
/// it was there, not empty, before fortisim opened it) and what the world holds now: licences
/// and those bound to a device ("bindings"), tokens and those a FortiGate provisioned, hardware
/// tokens and their consumed locks, the virtual clock and its offset from the real one in seconds.
protocol::json resumed_state(const core::model& world, const std::string& file, bool existed);

/// Writes a start-up failure as one line on stderr, "fortisim: LINE" (text) or {"event": "failed",
/// "error": LINE} (json), and returns the exit status, 2.
int fail(const std::string& line, bool json);

}  // namespace fortisim::app
