#pragma once
// DPDK's log lines through sluiced's own logger (common/log.hpp). Left alone, EAL writes each
// line twice on Linux — to stdout and to syslog — so under systemd every "EAL: …" line reaches the
// journal twice, the stdout copy at PRIORITY 6 whatever its level. With this stream each line is
// one record at the priority of its DPDK level (ERR and worse → error, WARNING → warn, NOTICE and
// INFO → info, DEBUG → debug), with the same level filter and rate limit as our own messages.
// Call once, before rte_eal_init (rte_openlog_stream's stream takes precedence over EAL's
// default one). Any thread may then log through DPDK.
namespace sluice::service {

void route_dpdk_log();

}  // namespace sluice::service
