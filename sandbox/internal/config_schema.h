// sandbox/internal/config_schema.h: the deviceConfiguration subtypes the sandbox accepts.
//
// Trusted certificate profiles (ios/macOS/android/androidForWork/androidWorkProfile/
// androidDeviceOwner TrustedRootCertificate, windows81TrustedRootCertificate) and imported-PFX
// profiles (ios/macOS/android/androidForWork/androidDeviceOwner ImportedPFXCertificateProfile,
// windows10ImportedPFXCertificateProfile), each with the documented property set (reference
// sections 2 and 3) on top of the shared deviceConfiguration properties. Validation is strict:
// unknown properties, wrong JSON types, enum values not spelled exactly (camelCase), a missing
// displayName or trustedRootCertificate, and a trusted root that is not base64 of a DER CA
// certificate are all refused with 400.

#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

enum class PropKind {
  kString,          // string or null
  kRequiredString,  // non-empty string; required on create
  kInt,             // integer within [min, max]
  kBool,
  kEnum,       // one of `values`, exact spelling
  kFlagsEnum,  // comma-separated members of `values`
  kStringArray,
  kObjectOrNull,   // opaque object (applicability rules)
  kDateTime,       // RFC 3339 with offset
  kCaCertificate,  // base64 DER of a CA certificate; required on create
  kExtendedKeyUsages,
  kSilentAccessDetails,
  kODataBind,  // "...deviceConfigurations('<id>')" of an existing profile
};

struct PropSpec {
  std::string_view name;
  PropKind kind;
  std::vector<std::string_view> values = {};  // kEnum / kFlagsEnum members.
  int min = -2147483647;
  int max = 2147483647;
  bool read_only = false;  // Accepted (validated) but not stored: server-maintained.
};

struct TypeSpec {
  std::string_view name;  // Without "#microsoft.graph.".
  bool trusted_root = false;
  std::vector<PropSpec> props;  // Own properties (the base ones are shared).
};

// nullptr for an unsupported type name.
const TypeSpec* FindConfigType(std::string_view name);
const std::vector<PropSpec>& BaseConfigProps();

struct ValidatedConfig {
  json props = json::object();  // Storable properties.
  std::string root_sha1;        // Set when a trustedRootCertificate was given.
};

// Validates `body` (without @odata.type, which the caller resolved to `type`; nullptr means
// the base deviceConfiguration type, as for a PATCH without @odata.type). `create` enforces
// required properties. `config_exists(id)` answers whether an @odata.bind target exists.
std::optional<Refusal> ValidateConfigBody(const json& body, const TypeSpec* type, bool create,
                                          const std::function<bool(const std::string&)>& exists,
                                          ValidatedConfig* out);

// The Graph representation of the stored properties: every property of the type, null (or the
// documented default) when unset.
json RenderConfigProps(const TypeSpec& type, const json& props);

}  // namespace certdeploy::sandbox::internal
