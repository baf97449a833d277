// sluice-loadgen's output (report.hpp has the threads).
#include "report.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sluice::loadgen {

namespace {

using json = nlohmann::ordered_json;

double us(uint64_t ns) {
    return double(ns) / 1000.0;
}

json verdicts_json(const period_counts& c) {
    json client = json::object(), server = json::object(), segments = json::object();
    for (size_t i = 0; i < c.client_frames.size(); ++i) {
        const char* name = verdict_name(frame_verdict(i));
        if (c.client_frames[i]) client[name] = c.client_frames[i];
        if (c.server_frames[i]) server[name] = c.server_frames[i];
    }
    for (size_t i = 0; i < c.segments.size(); ++i)
        if (c.segments[i]) segments[verdict_name(segment_verdict(i))] = c.segments[i];
    return {{"client_frames", client}, {"server_frames", server}, {"segments", segments}};
}

json counts_json(const period_counts& c) {
    json j = {{"sent_client", c.sent_client},
              {"sent_server", c.sent_server},
              {"paced", c.paced},
              {"received_client", c.received_client},
              {"received_server", c.received_server},
              {"tx_refused", c.refused},
              {"tx_refused_client", c.refused_client},
              {"no_mbuf", c.no_mbuf},
              {"repaired", c.repaired},
              {"reordered", c.reordered},
              {"validation_failures", c.validation_failures()}};
    if (c.flood_sent || c.flood_at_backends || c.flood_answers) {
        j["flood_syns_sent"] = c.flood_sent;
        j["flood_syns_at_backends"] = c.flood_at_backends;
        j["flood_answers_to_spoofed"] = c.flood_answers;
    }
    if (c.opened) {
        j["connections_opened"] = c.opened;
        j["connections_completed"] = c.completed;
        j["connections_failed"] = c.opened - std::min(c.opened, c.completed);
        j["connections_reset"] = c.resets;
    }
    j["verdicts"] = verdicts_json(c);
    return j;
}

json latency_json(const trial_stats& t) {
    return {{"samples", t.latency_samples},      {"min_us", us(t.latency_min_ns)},
            {"p50_us", us(t.latency_p50_ns)},    {"p99_us", us(t.latency_p99_ns)},
            {"p99_9_us", us(t.latency_p999_ns)}, {"max_us", us(t.latency_max_ns)}};
}

json trial_json(const trial_stats& t, const trial_record* record) {
    json j = {{"rate_pps", t.rate_pps},
              {"duration_s", t.duration_s},
              {"offered", t.counts.offered},
              {"received", t.counts.received},
              {"loss_ratio", loss_ratio(t.counts)},
              {"reordered", t.detail.reordered},
              {"achieved_pps", t.achieved_pps},
              {"short_of_rate", t.short_of_rate}};
    if (record) {
        j["goal"] = goal_name(record->goal);
        j["phase"] = phase_name(record->phase);
    }
    j["latency"] = latency_json(t);
    j["counts"] = counts_json(t.detail);
    return j;
}

json goal_json(const rate_spread& spread, const goal_result& last) {
    return {{"median_pps", spread.median}, {"min_pps", spread.min},
            {"max_pps", spread.max},       {"found", last.found},
            {"complete", last.complete},   {"upper_pps", last.upper_pps}};
}

json second_json(const second_record& s) {
    return {{"trial", s.trial},
            {"t", s.t_s},
            {"span_s", s.span_s},
            {"offered", s.offered},
            {"received", s.received},
            {"lost", s.lost},
            {"reordered", s.reordered},
            {"latency_samples", s.latency_samples},
            {"p99_us", us(s.latency_p99_ns)}};
}

// The soak's totals come from its trial (exact: the per-second sums leave out a shortfall).
json soak_json(const run_report& r) {
    const soak_report& k = r.soak;
    const trial_stats& t = r.trials.at(k.trial);
    uint64_t lossy = 0, worst = 0;
    json seconds = json::array();
    for (const second_record& s : k.seconds) {
        lossy += s.lost != 0;
        worst = std::max(worst, s.lost);
        seconds.push_back(second_json(s));
    }
    json j = {{"duration_s", t.duration_s},
              {"rate_pps", k.rate_pps},
              {"rate_from", k.rate_from_ndr ? "ndr" : "rate"}};
    if (k.rate_from_ndr) {
        j["ndr_pps"] = k.ndr_pps;
        j["ndr_fraction"] = k.ndr_fraction;
    }
    j["offered"] = t.counts.offered;
    j["received"] = t.counts.received;
    j["lost"] = t.counts.offered - std::min(t.counts.offered, t.counts.received);
    j["loss_ratio"] = loss_ratio(t.counts);
    j["reordered"] = t.detail.reordered;
    j["short_of_rate"] = t.short_of_rate;
    j["seconds"] = k.seconds.size();
    j["seconds_with_loss"] = lossy;
    j["most_lost_in_a_second"] = worst;
    j["latency"] = latency_json(t);
    j["per_second"] = seconds;
    return j;
}

uint64_t trials_reordered(const run_report& r) {
    uint64_t n = 0;
    for (const trial_stats& t : r.trials) n += t.detail.reordered;
    return n;
}

// The search's records in call order, all runs: they pair with run_report::trials.
std::vector<const trial_record*> records_in_order(const run_report& r) {
    std::vector<const trial_record*> out;
    for (const search_result& run : r.search.runs)
        for (const trial_record& t : run.trials) out.push_back(&t);
    return out;
}

}  // namespace

unsigned paced_frame_len(const options& o) {
    const unsigned l4 = o.mode == run_mode::udp ? 8 : 20;
    return 14 + 20 + l4 + o.payload;
}

const trial_stats* ndr_trial(const run_report& r) {
    if (!r.searched) return r.trials.empty() ? nullptr : &r.trials.back();
    if (r.search.runs.empty()) return nullptr;
    const goal_result& ndr = r.search.runs.back().ndr;
    if (!ndr.found) return nullptr;
    const double full = r.opt->search.final_duration_s;
    for (auto it = r.trials.rbegin(); it != r.trials.rend(); ++it)
        if (it->rate_pps == ndr.rate_pps && it->duration_s == full) return &*it;
    return nullptr;
}

void print_trial(std::FILE* out, unsigned number, const trial_stats& t) {
    std::fprintf(out,
                 "trial %3u: %9.4f Mpps %6.2f s  offered %10llu received %10llu loss %.6f  "
                 "reordered %llu  p50 %7.1f us p99 %7.1f us%s%s\n",
                 number, t.rate_pps / 1e6, t.duration_s, (unsigned long long)t.counts.offered,
                 (unsigned long long)t.counts.received, loss_ratio(t.counts),
                 (unsigned long long)t.detail.reordered, us(t.latency_p50_ns), us(t.latency_p99_ns),
                 t.short_of_rate ? "  (short of rate)" : "",
                 t.detail.validation_failures() ? "  VALIDATION FAILURES" : "");
}

void print_summary(std::FILE* out, const run_report& r) {
    const trial_stats* at = ndr_trial(r);
    std::fprintf(out, "%-22s %6s %6s %10s %10s %9s %9s %9s %7s %9s %9s\n", "scenario", "flows",
                 "frame", "NDR Mpps", "PDR Mpps", "p50 us", "p99 us", "p99.9 us", "trials",
                 "failures", "reordered");
    const double ndr = r.searched ? r.search.ndr.median : (at ? at->achieved_pps : 0);
    const double pdr = r.searched ? r.search.pdr.median : 0;
    std::fprintf(out, "%-22s %6u %6u %10.4f %10.4f %9.1f %9.1f %9.1f %7zu %9llu %9llu\n",
                 r.scenario.c_str(), r.usable_flows, r.frame_len, ndr / 1e6, pdr / 1e6,
                 at ? us(at->latency_p50_ns) : 0.0, at ? us(at->latency_p99_ns) : 0.0,
                 at ? us(at->latency_p999_ns) : 0.0, r.trials.size(),
                 (unsigned long long)r.totals.validation_failures(),
                 (unsigned long long)trials_reordered(r));
    if (!r.searched)
        std::fprintf(out, "(one trial at a fixed rate: the NDR column is the rate it achieved)\n");
}

std::string report_json(const run_report& r) {
    const options& o = *r.opt;
    json j = {{"scenario", r.scenario},     {"mode", mode_name(o.mode)},
              {"flows", o.flows},           {"usable_flows", r.usable_flows},
              {"frame_bytes", r.frame_len}, {"payload_bytes", o.payload},
              {"searched", r.searched},     {"grace_s", o.grace_s}};
    if (r.searched) {
        const search_result& last = r.search.runs.back();
        j["search"] = {{"max_rate_pps", o.search.max_rate_pps},
                       {"min_rate_pps", o.search.min_rate_pps},
                       {"resolution", o.search.resolution},
                       {"pdr_loss_ratio", o.search.pdr_loss_ratio},
                       {"trial_duration_s", o.search.trial_duration_s},
                       {"final_duration_s", o.search.final_duration_s},
                       {"runs", r.search.runs.size()}};
        j["ndr"] = goal_json(r.search.ndr, last.ndr);
        j["pdr"] = goal_json(r.search.pdr, last.pdr);
    }
    if (const trial_stats* at = ndr_trial(r)) j["latency_at_ndr"] = latency_json(*at);
    const std::vector<const trial_record*> records = records_in_order(r);
    json trials = json::array();
    for (size_t i = 0; i < r.trials.size(); ++i)
        trials.push_back(trial_json(r.trials[i], i < records.size() ? records[i] : nullptr));
    j["trials"] = trials;
    j["trials_reordered"] = trials_reordered(r);
    j["totals"] = counts_json(r.totals);
    if (r.soak.ran) j["soak"] = soak_json(r);
    return j.dump(2) + "\n";
}

void print_second(std::FILE* out, const second_record& s) {
    std::fprintf(out,
                 "second %6.0f (trial %u): offered %9llu received %9llu lost %7llu reordered %6llu "
                 "p99 %8.1f us%s\n",
                 s.t_s, s.trial, (unsigned long long)s.offered, (unsigned long long)s.received,
                 (unsigned long long)s.lost, (unsigned long long)s.reordered, us(s.latency_p99_ns),
                 s.span_s < 0.999 ? "  (partial)" : "");
}

std::string second_json_line(const std::string& scenario, const second_record& s) {
    json j = {{"scenario", scenario}};
    j.update(second_json(s));
    return j.dump() + "\n";
}

void print_soak(std::FILE* out, const run_report& r) {
    const soak_report& k = r.soak;
    const trial_stats& t = r.trials.at(k.trial);
    uint64_t lossy = 0;
    for (const second_record& s : k.seconds) lossy += s.lost != 0;
    const uint64_t lost = t.counts.offered - std::min(t.counts.offered, t.counts.received);
    std::fprintf(out,
                 "soak: %.0f s at %.4f Mpps%s: offered %llu received %llu lost %llu (%.6f%%) "
                 "reordered %llu, %llu of %zu seconds with loss\n",
                 t.duration_s, k.rate_pps / 1e6, k.rate_from_ndr ? " (share of the NDR)" : "",
                 (unsigned long long)t.counts.offered, (unsigned long long)t.counts.received,
                 (unsigned long long)lost, 100 * loss_ratio(t.counts),
                 (unsigned long long)t.detail.reordered, (unsigned long long)lossy,
                 k.seconds.size());
}

}  // namespace sluice::loadgen
