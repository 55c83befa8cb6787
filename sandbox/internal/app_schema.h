// sandbox/internal/app_schema.h: the mobileApp and managedDeviceMobileAppConfiguration subtypes
// the sandbox accepts under /deviceAppManagement, with their documented property sets.
//
// mobileApps: iosStoreApp (v1.0 and beta) and androidManagedStoreApp (beta only).
// mobileAppConfigurations: iosMobileAppConfiguration (v1.0 and beta) and
// androidManagedStoreAppConfiguration (beta only). Each type lists every property, inherited ones
// included, as on its Graph reference page (cited in app_schema.cc); properties that exist only
// in /beta are unknown under /v1.0.
//
// Validation is strict where Graph's OData layer is: unknown properties, wrong JSON types, null
// where the type is not nullable (Boolean, Int32, enums, collections), base64 that is not
// (Edm.Binary), complex values with unknown fields or a foreign "@odata.type", and enum literals
// that are not members are refused with 400. Enum literals are matched ignoring case and stored
// in their documented camelCase spelling. Read-only properties are accepted (and type-checked)
// but never stored, as deviceConfigurations do. Not thread-safe state: none (pure functions).

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

enum class AppFamily { kMobileApp, kAppConfiguration };

// "mobileApp" or "mobileAppConfiguration": the prefix of refusal reasons.
std::string_view FamilyName(AppFamily family);

enum class FieldKind { kString, kBool, kEnum, kBinary };

// A field of a complex type (a nested object).
struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  std::vector<std::string_view> values = {};  // kEnum members; front() is the default.
};

struct ComplexSpec {
  std::string_view type;  // Without "microsoft.graph.", e.g. "appConfigurationSettingItem".
  std::vector<FieldSpec> fields;
};

enum class AppPropKind {
  kString,          // string or null
  kRequiredString,  // non-empty string; required on create
  kBool,            // true or false
  kInt,             // Int32
  kEnum,            // a member of `values`, any case
  kStringArray,     // array of strings
  kBinary,          // standard base64 string, or null
  kDateTime,        // RFC 3339 with an offset
  kComplex,         // object of `complex`, or null
  kComplexArray,    // array of objects of `complex`
};

struct AppPropSpec {
  std::string_view name;
  AppPropKind kind;
  std::vector<std::string_view> values = {};  // kEnum members; front() is the default.
  const ComplexSpec* complex = nullptr;       // kComplex / kComplexArray.
  bool read_only = false;                     // Accepted (validated) but not stored.
  bool beta_only = false;                     // Unknown under /v1.0.
  std::string_view fallback = {};             // JSON rendered when unset; empty: kind default.
};

struct AppTypeSpec {
  std::string_view name;  // Without "#microsoft.graph.".
  AppFamily family;
  // What an app configuration may target: an iosMobileAppConfiguration targets "ios" apps, an
  // androidManagedStoreAppConfiguration "androidManagedStore" apps.
  std::string_view platform;
  bool beta_only = false;
  std::vector<AppPropSpec> props;  // Inherited properties first.
};

// nullptr for a type the sandbox does not know in `family`.
const AppTypeSpec* FindAppType(AppFamily family, std::string_view name);

// Resolves the body's "@odata.type" ("#microsoft.graph.<type>"). `required` refuses a body
// without one. Sets *type to nullptr when it is absent or names the family's base type (a PATCH
// then knows only the base properties). A type outside the family, or a beta-only type when
// `beta` is false, is refused ("unsupported @odata.type").
std::optional<Refusal> ResolveAppType(const json& body, AppFamily family, bool required, bool beta,
                                      const AppTypeSpec** type);

// Validates `body` against `type` (nullptr: the family's base type). `create` enforces required
// properties. On success *props holds the storable properties, enums in camelCase and complex
// values normalised ({"field": value}, no "@odata.type").
std::optional<Refusal> ValidateAppBody(const json& body, AppFamily family, const AppTypeSpec* type,
                                       bool create, bool beta, json* props);

// A create (`create`) or update request of `family`: its JSON body (ParseJsonBody), type
// (ResolveAppType, required on create) and properties (ValidateAppBody) for `op.version`.
std::optional<Refusal> ParseAppRequest(const Operation& op, AppFamily family, bool create,
                                       const AppTypeSpec** type, json* props);

// Every property of `type` visible in the version (`beta` or v1.0): stored values, else the
// documented default (null, false, 0, [], the enum's first member, or the spec's fallback).
// Complex values are rendered with every field.
json RenderAppProps(const AppTypeSpec& type, const json& props, bool beta);

}  // namespace certdeploy::sandbox::internal
