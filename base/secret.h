// base/secret.h: SecretBytes, a buffer for PFX passwords and private key material.
//
// Its memory is wiped (explicit_bzero) whenever it is released: on destruction, on move-from, on
// Clear(), and on every internal reallocation, because the storage goes through a zeroizing
// allocator. It cannot be printed: there is no operator<<, and fmt/spdlog refuse it at compile
// time (see base/log.h). Code that needs the bytes calls Reveal(), which keeps every use greppable.
//
// Copies are explicit (Clone()) so that a secret is never duplicated by accident.

#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <span>
#include <string_view>
#include <vector>

namespace certdeploy {

// Wipes `size` bytes at `data` in a way the optimizer may not elide.
void SecureWipe(void* data, size_t size);

// An allocator that wipes every block before freeing it.
template <typename T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() = default;
  template <typename U>
  ZeroizingAllocator(const ZeroizingAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    SecureWipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const ZeroizingAllocator<U>&) const { return true; }
};

// Marker base: every type deriving from it is refused by the logging formatter.
struct SecretTag {};

class SecretBytes : public SecretTag {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view text) : bytes_(text.begin(), text.end()) {}
  explicit SecretBytes(std::span<const uint8_t> data) : bytes_(data.begin(), data.end()) {}

  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Clear(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      Clear();
      bytes_ = std::move(other.bytes_);
      other.Clear();
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { Clear(); }

  SecretBytes Clone() const { return SecretBytes(Reveal()); }

  bool empty() const { return bytes_.empty(); }
  size_t size() const { return bytes_.size(); }

  // The secret itself. Never log, store or put it in a message.
  std::span<const uint8_t> Reveal() const { return {bytes_.data(), bytes_.size()}; }
  std::string_view RevealAsString() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  // Writable access for filling a buffer (e.g. decrypting into it).
  uint8_t* MutableData() { return bytes_.data(); }
  void Resize(size_t n) { bytes_.resize(n); }
  void Append(std::string_view more) { bytes_.insert(bytes_.end(), more.begin(), more.end()); }

  // Wipes and empties the buffer.
  void Clear() {
    SecureWipe(bytes_.data(), bytes_.size());
    bytes_.clear();
  }

  // Constant-time comparison.
  bool Equals(const SecretBytes& other) const;

 private:
  std::vector<uint8_t, ZeroizingAllocator<uint8_t>> bytes_;
};

}  // namespace certdeploy
