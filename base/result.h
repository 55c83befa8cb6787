// base/result.h: Result<T> holds either a value or a non-OK Status.
//
// Its surface mirrors std::expected (C++23) closely enough that a later move is a rename:
//
//   Result<Pkcs12Bundle> bundle = ParsePkcs12(bytes, password);
//   if (!bundle.ok()) return bundle.status();
//   Use(*bundle);
//
// Accessing the value of an error Result is a bug and aborts.

#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "base/status.h"

namespace certdeploy {

template <typename T>
class [[nodiscard]] Result {
 public:
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> is meaningless");

  // Implicit so that `return value;` and `return SomeError(...);` both work.
  Result(const T& value) : value_(value) {}                      // NOLINT
  Result(T&& value) : value_(std::move(value)) {}                // NOLINT
  Result(Status status) : status_(std::move(status)) {           // NOLINT
    if (status_.ok()) {
      std::fputs("Result constructed from an OK Status without a value\n", stderr);
      std::abort();
    }
  }
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, T> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result<T>>>>
  Result(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return ok(); }

  // OK when a value is held.
  const Status& status() const { return status_; }

  const T& value() const& { Check(); return *value_; }
  T& value() & { Check(); return *value_; }
  T&& value() && { Check(); return std::move(*value_); }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void Check() const {
    if (!value_.has_value()) {
      std::fprintf(stderr, "Result::value() on error: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace certdeploy
