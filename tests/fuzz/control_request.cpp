// Fuzz target: the control socket's request path (request_lines framing, the UTF-8 check, then
// control_api's JSON parsing and dispatch against a running runtime) never crashes, and every
// accepted line gets exactly one response line that is a JSON object with a boolean "ok".
//
// Input: the byte stream a client writes, cut into reads at 0x00 bytes (as several recv calls
// would deliver it). A runtime per input (fuzz_runtime.hpp), so state such as weights, drains and
// reloads does not leak from one input into the next. Fuzzer thread only; the workers are polled
// inline while a flow listing waits for them, as their lcores would in the daemon.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "control/control_api.hpp"
#include "control/request_lines.hpp"
#include "dataplane/runtime_view.hpp"
#include "fuzz/fuzz_runtime.hpp"
#include "sluice/control_protocol.hpp"

namespace {

using namespace sluice;

// What `reload` reads by default: the running configuration, so a plain reload succeeds.
std::string config_path;

[[noreturn]] void fail(const std::string& why, std::string_view line) {
    fprintf(stderr, "control_request: %s\nrequest: %.*s\n", why.c_str(), int(line.size()),
            line.data());
    abort();
}

void answer_one(control::control_api& api, std::string_view line) {
    std::optional<std::string> answer;
    unsigned answers = 0;
    api.handle_async(line, [&](std::string response) {
        ++answers;
        answer = std::move(response);
    });
    // A flow listing answers once every worker copied its flows.
    for (int round = 0; !answer && round < 1000; ++round) fuzz::run_passes(1);
    if (!answer) fail("no answer", line);
    if (answers != 1) fail("more than one answer", line);
    if (answer->find('\n') != std::string::npos) fail("a response spans lines", line);
    const auto response = nlohmann::json::parse(*answer, nullptr, false);
    if (response.is_discarded() || !response.is_object() || !response.contains("ok") ||
        !response["ok"].is_boolean())
        fail("response is not {\"ok\": bool, ...}: " + *answer, line);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::init_process("fuzz_control_request");
    char path[] = "/tmp/sluice-fuzz-control-XXXXXX.toml";
    const int fd = mkstemps(path, 5);
    if (fd < 0) abort();
    close(fd);
    config_path = path;
    std::atexit([] { unlink(config_path.c_str()); });
    std::ofstream(config_path) << fuzz::fuzz_config(2, true);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    dataplane::runtime& rt = fuzz::start_runtime(fuzz::fuzz_config(2, true));
    fuzz::resolve_neighbors();
    {
        dataplane::runtime_view view(rt);
        control::control_api api(rt.control(), view, config_path);
        control::request_lines lines(control_protocol::max_request_bytes);
        std::string_view input(reinterpret_cast<const char*>(data), size);
        std::string line;
        for (;;) {
            if (lines.wants_more()) {
                if (input.empty()) break;  // the client stops (mid-line, perhaps)
                const size_t cut = std::min(input.find('\0'), input.size());
                lines.append(input.substr(0, cut));
                input.remove_prefix(std::min(cut + 1, input.size()));
                continue;
            }
            // Not wanting more: a complete line waits, or the pending one is too long.
            if (lines.next(line) != control::request_lines::status::line) break;  // server closes
            // The server answers a line that is not UTF-8 itself, without the handler.
            if (control::invalid_utf8_offset(line) != std::string_view::npos) continue;
            answer_one(api, line);
        }
    }
    fuzz::quiesce_workers();
    fuzz::stop_runtime();
    return 0;
}
