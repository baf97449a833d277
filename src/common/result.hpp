#pragma once
// The one error type of control operations (reload, the control API, sluicectl's client): an
// operation either succeeds (with a value for result<T>) or fails with a message an operator can
// read, plus optional details (one line each, e.g. "FILE:LINE:COL: problem"). Errors are values:
// no exceptions cross a control operation's boundary. Any thread; no DPDK.
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sluice {

struct error {
    std::string message;
    std::vector<std::string> details;
};

// A failed operation's error, with the details left empty: `return fail("no such VIP");`.
inline error fail(std::string message, std::vector<std::string> details = {}) {
    return error{std::move(message), std::move(details)};
}

template <class T = void>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    result(sluice::error e) : state_(std::in_place_index<1>, std::move(e)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }
    // The value; only when ok().
    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    // The error; only when !ok().
    const sluice::error& error() const { return std::get<1>(state_); }
    const std::string& message() const { return error().message; }

private:
    std::variant<T, sluice::error> state_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(sluice::error e) : error_(std::move(e)), failed_(true) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    // The error; only when !ok().
    const sluice::error& error() const { return error_; }
    const std::string& message() const { return error_.message; }

private:
    sluice::error error_;
    bool failed_ = false;
};

}  // namespace sluice
