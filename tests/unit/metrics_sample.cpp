// Prints the Prometheus text of sample_view(): the input promtool_check.py hands to
// `promtool check metrics`.
#include <cstdio>
#include <string>

#include "metrics/prometheus_text.hpp"
#include "metrics_sample_view.hpp"

int main() {
    const std::string text =
        sluice::metrics::format_prometheus(sluice::metrics::testing::sample_view());
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
