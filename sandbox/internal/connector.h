// sandbox/internal/connector.h: the simulated Intune Certificate Connector (PFX).
//
// The real connector receives each imported record, decrypts encryptedPfxPassword with its
// private key using the record's paddingScheme, and opens encryptedPfxBlob with that password
// before re-wrapping the key for devices. A record it cannot use never reaches a device. The
// sandbox does the same at import time and refuses such a record with a specific reason.
// Thread-safe (immutable after Load).

#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "base/clock.h"
#include "base/result.h"

namespace certdeploy::sandbox::internal {

// Public facts of the certificate found in an imported PFX.
struct ConnectorFacts {
  std::string sha1;  // Lowercase hex thumbprint of the leaf.
  SystemTime not_before;
  SystemTime not_after;
};

// Stable reasons (also the statistics keys).
inline constexpr char kReasonNoKey[] = "connector: no key configured";
inline constexpr char kReasonPassword[] = "connector: password does not decrypt";
inline constexpr char kReasonPfx[] = "connector: pfx does not open";
inline constexpr char kReasonThumbprint[] = "connector: thumbprint mismatch";
inline constexpr char kReasonDates[] = "connector: dates mismatch";

class Connector {
 public:
  // Empty path: a connector without a key, which refuses every record (kReasonNoKey).
  // InvalidArgument naming the file if the key cannot be loaded.
  static Result<std::unique_ptr<Connector>> Load(const std::string& key_file);
  ~Connector();

  // Decrypts `sealed_password_b64` under `padding_scheme` ("oaepSha256", ...) and opens
  // `pfx_bytes` with it. Returns the leaf's facts, or one of the reasons above.
  std::variant<ConnectorFacts, std::string> Open(const std::string& pfx_bytes,
                                                 const std::string& sealed_password_b64,
                                                 const std::string& padding_scheme) const;

 private:
  struct Impl;
  explicit Connector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace certdeploy::sandbox::internal
