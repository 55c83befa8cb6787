// The property sets below follow Graph's reference pages (view=graph-rest-beta unless noted):
//   mobileApp (base):
//   https://learn.microsoft.com/graph/api/resources/intune-shared-mobileapp?view=graph-rest-beta
//                      (v1.0:
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-mobileapp?view=graph-rest-1.0)
//   iosStoreApp:
//   https://learn.microsoft.com/graph/api/resources/intune-apps-iosstoreapp?view=graph-rest-1.0
//                      create:
//                      https://learn.microsoft.com/graph/api/intune-apps-iosstoreapp-create?view=graph-rest-1.0
//   androidManagedStoreApp (beta only):
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-androidmanagedstoreapp?view=graph-rest-beta
//                      create:
//                      https://learn.microsoft.com/graph/api/intune-apps-androidmanagedstoreapp-create?view=graph-rest-beta
//   managedDeviceMobileAppConfiguration (base):
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-manageddevicemobileappconfiguration?view=graph-rest-1.0
//   iosMobileAppConfiguration:
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-iosmobileappconfiguration?view=graph-rest-1.0
//   androidManagedStoreAppConfiguration (beta only):
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-androidmanagedstoreappconfiguration?view=graph-rest-beta
//   appConfigurationSettingItem:
//   https://learn.microsoft.com/graph/api/resources/intune-apps-appconfigurationsettingitem?view=graph-rest-1.0
//   mdmAppConfigKeyType:
//   https://learn.microsoft.com/graph/api/resources/intune-apps-mdmappconfigkeytype?view=graph-rest-1.0
//   androidPermissionAction / androidPermissionActionType / androidProfileApplicability:
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-androidpermissionaction?view=graph-rest-beta
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-androidpermissionactiontype?view=graph-rest-beta
//                      https://learn.microsoft.com/graph/api/resources/intune-apps-androidprofileapplicability?view=graph-rest-beta
//   mobileAppPublishingState:
//   https://learn.microsoft.com/graph/api/resources/intune-apps-mobileapppublishingstate?view=graph-rest-1.0
//
// Where the pages disagree: the 2024 androidManagedStoreApp page marks packageId and appStoreUrl
// read-only, while its create page lists them as create properties; the sandbox stores them
// (an app's package id is what a client identifies it by). Which properties are required is not
// documented; the sandbox requires displayName everywhere, and publisher plus the app's
// identifier (bundleId / packageId) on apps: without them an app cannot be told apart. This is
// a choice, not a documented rule.

#include "sandbox/internal/app_schema.h"

#include "base/encoding.h"
#include "base/strings.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {
namespace {

using V = std::vector<std::string_view>;
using K = AppPropKind;

constexpr std::string_view kGraphPrefix = "microsoft.graph.";

const ComplexSpec kMimeContent = {"mimeContent",
                                  {{"type", FieldKind::kString}, {"value", FieldKind::kBinary}}};
const ComplexSpec kIosDeviceType = {
    "iosDeviceType", {{"iPad", FieldKind::kBool}, {"iPhoneAndIPod", FieldKind::kBool}}};
const ComplexSpec kIosMinimumOs = {"iosMinimumOperatingSystem",
                                   {{"v8_0", FieldKind::kBool},
                                    {"v9_0", FieldKind::kBool},
                                    {"v10_0", FieldKind::kBool},
                                    {"v11_0", FieldKind::kBool},
                                    {"v12_0", FieldKind::kBool},
                                    {"v13_0", FieldKind::kBool},
                                    {"v14_0", FieldKind::kBool},
                                    {"v15_0", FieldKind::kBool},
                                    {"v16_0", FieldKind::kBool},
                                    {"v17_0", FieldKind::kBool},
                                    {"v18_0", FieldKind::kBool}}};
const ComplexSpec kAppTrack = {
    "androidManagedStoreAppTrack",
    {{"trackId", FieldKind::kString}, {"trackAlias", FieldKind::kString}}};
const ComplexSpec kSettingItem = {
    "appConfigurationSettingItem",
    {{"appConfigKey", FieldKind::kString},
     {"appConfigKeyType",
      FieldKind::kEnum,
      {"stringType", "integerType", "realType", "booleanType", "tokenType"}},
     {"appConfigKeyValue", FieldKind::kString}}};
const ComplexSpec kPermissionAction = {
    "androidPermissionAction",
    {{"permission", FieldKind::kString},
     {"action", FieldKind::kEnum, {"prompt", "autoGrant", "autoDeny"}}}};

std::vector<AppPropSpec> MobileAppBase() {
  return {
      {.name = "id", .kind = K::kString, .read_only = true},
      {"displayName", K::kRequiredString},
      {"description", K::kString},
      {"publisher", K::kRequiredString},
      {"largeIcon", K::kComplex, {}, &kMimeContent},
      {.name = "createdDateTime", .kind = K::kDateTime, .read_only = true},
      {.name = "lastModifiedDateTime", .kind = K::kDateTime, .read_only = true},
      {"isFeatured", K::kBool},
      {"privacyInformationUrl", K::kString},
      {"informationUrl", K::kString},
      {"owner", K::kString},
      {"developer", K::kString},
      {"notes", K::kString},
      // Store apps need no upload: Intune publishes them at once.
      {.name = "publishingState",
       .kind = K::kEnum,
       .values = {"notPublished", "processing", "published"},
       .read_only = true,
       .fallback = "\"published\""},
      {.name = "uploadState",
       .kind = K::kInt,
       .read_only = true,
       .beta_only = true,
       .fallback = "1"},
      {.name = "isAssigned", .kind = K::kBool, .read_only = true, .beta_only = true},
      {.name = "roleScopeTagIds",
       .kind = K::kStringArray,
       .beta_only = true,
       .fallback = "[\"0\"]"},
      {.name = "dependentAppCount", .kind = K::kInt, .read_only = true, .beta_only = true},
      {.name = "supersedingAppCount", .kind = K::kInt, .read_only = true, .beta_only = true},
      {.name = "supersededAppCount", .kind = K::kInt, .read_only = true, .beta_only = true},
  };
}

std::vector<AppPropSpec> AppConfigurationBase() {
  return {
      {.name = "id", .kind = K::kString, .read_only = true},
      {"targetedMobileApps", K::kStringArray},
      {.name = "roleScopeTagIds",
       .kind = K::kStringArray,
       .beta_only = true,
       .fallback = "[\"0\"]"},
      {.name = "createdDateTime", .kind = K::kDateTime, .read_only = true},
      {"description", K::kString},
      {.name = "lastModifiedDateTime", .kind = K::kDateTime, .read_only = true},
      {"displayName", K::kRequiredString},
      {.name = "version", .kind = K::kInt, .read_only = true},
  };
}

std::vector<AppTypeSpec> BuildTypes() {
  std::vector<AppTypeSpec> types;
  AppTypeSpec ios_app{"iosStoreApp", AppFamily::kMobileApp, "ios", false, MobileAppBase()};
  ios_app.props.push_back({"bundleId", K::kRequiredString});
  ios_app.props.push_back({"appStoreUrl", K::kString});
  ios_app.props.push_back({"applicableDeviceType", K::kComplex, {}, &kIosDeviceType});
  ios_app.props.push_back({"minimumSupportedOperatingSystem", K::kComplex, {}, &kIosMinimumOs});
  types.push_back(std::move(ios_app));

  AppTypeSpec android_app{"androidManagedStoreApp", AppFamily::kMobileApp, "androidManagedStore",
                          true, MobileAppBase()};
  android_app.props.push_back({"packageId", K::kRequiredString});
  android_app.props.push_back({"appIdentifier", K::kString});
  android_app.props.push_back({.name = "usedLicenseCount", .kind = K::kInt, .read_only = true});
  android_app.props.push_back({.name = "totalLicenseCount", .kind = K::kInt, .read_only = true});
  android_app.props.push_back({"appStoreUrl", K::kString});
  android_app.props.push_back({.name = "isPrivate", .kind = K::kBool, .read_only = true});
  android_app.props.push_back({"isSystemApp", K::kBool});
  android_app.props.push_back(
      {.name = "appTracks", .kind = K::kComplexArray, .complex = &kAppTrack, .read_only = true});
  android_app.props.push_back({.name = "supportsOemConfig", .kind = K::kBool, .read_only = true});
  types.push_back(std::move(android_app));

  AppTypeSpec ios_config{"iosMobileAppConfiguration", AppFamily::kAppConfiguration, "ios", false,
                         AppConfigurationBase()};
  ios_config.props.push_back({"encodedSettingXml", K::kBinary});
  ios_config.props.push_back({"settings", K::kComplexArray, {}, &kSettingItem});
  types.push_back(std::move(ios_config));

  AppTypeSpec android_config{"androidManagedStoreAppConfiguration", AppFamily::kAppConfiguration,
                             "androidManagedStore", true, AppConfigurationBase()};
  android_config.props.push_back({"packageId", K::kString});
  android_config.props.push_back({"payloadJson", K::kString});
  android_config.props.push_back({"permissionActions", K::kComplexArray, {}, &kPermissionAction});
  android_config.props.push_back(
      {.name = "appSupportsOemConfig", .kind = K::kBool, .read_only = true});
  android_config.props.push_back(
      {"profileApplicability", K::kEnum, {"default", "androidWorkProfile", "androidDeviceOwner"}});
  android_config.props.push_back({"connectedAppsEnabled", K::kBool});
  types.push_back(std::move(android_config));
  return types;
}

const std::vector<AppTypeSpec>& Types() {
  static const std::vector<AppTypeSpec>* types = new std::vector<AppTypeSpec>(BuildTypes());
  return *types;
}

const std::vector<AppPropSpec>& BaseProps(AppFamily family) {
  static const auto* apps = new std::vector<AppPropSpec>(MobileAppBase());
  static const auto* configs = new std::vector<AppPropSpec>(AppConfigurationBase());
  return family == AppFamily::kMobileApp ? *apps : *configs;
}

std::string_view BaseTypeName(AppFamily family) {
  return family == AppFamily::kMobileApp ? "mobileApp" : "managedDeviceMobileAppConfiguration";
}

// The member `literal` names, in its documented spelling. Case is not significant: clients
// serialising .NET enums send PascalCase ("BooleanType"), as for userPfxCertificate.
std::optional<std::string> EnumMember(const V& members, const std::string& literal) {
  for (std::string_view m : members) {
    if (EqualsIgnoreCaseAscii(m, literal)) return std::string(m);
  }
  return std::nullopt;
}

bool IsBase64(const json& value) {
  return value.is_string() && Base64Decode(value.get<std::string>()).has_value();
}

// Validates one object of `spec`; returns why it is not valid, or nullopt and its normal form.
std::optional<std::string> ValidateComplex(const json& value, const ComplexSpec& spec, json* out) {
  if (!value.is_object()) return "expected a " + std::string(spec.type) + " object";
  *out = json::object();
  for (const auto& [key, field_value] : value.items()) {
    if (key == "@odata.type") {
      // A nested "@odata.type" may omit the '#', as Graph's examples do
      // ("microsoft.graph.appConfigurationSettingItem").
      if (!IsGraphType(field_value, spec.type, /*hash_optional=*/true)) {
        return "unexpected type " + field_value.dump() + " for a " + std::string(spec.type);
      }
      continue;
    }
    const FieldSpec* field = nullptr;
    for (const auto& f : spec.fields) {
      if (f.name == key) field = &f;
    }
    if (field == nullptr) {
      return "the property '" + key + "' does not exist on type 'microsoft.graph." +
             std::string(spec.type) + "'";
    }
    switch (field->kind) {
      case FieldKind::kString:
        if (!field_value.is_string() && !field_value.is_null()) return key + " must be a string";
        (*out)[key] = field_value;
        break;
      case FieldKind::kBool:
        if (!field_value.is_boolean()) return key + " must be a boolean";
        (*out)[key] = field_value;
        break;
      case FieldKind::kBinary:
        if (!field_value.is_null() && !IsBase64(field_value)) return key + " must be base64";
        (*out)[key] = field_value;
        break;
      case FieldKind::kEnum: {
        auto member = field_value.is_string()
                          ? EnumMember(field->values, field_value.get<std::string>())
                          : std::nullopt;
        if (!member) return "'" + field_value.dump() + "' is not a member of " + key;
        (*out)[key] = *member;
        break;
      }
    }
  }
  return std::nullopt;
}

// Every field of `spec`, stored values over defaults.
json RenderComplex(const ComplexSpec& spec, const json& stored) {
  json out = json::object();
  for (const auto& f : spec.fields) {
    std::string name(f.name);
    if (stored.is_object() && stored.contains(name)) {
      out[name] = stored[name];
    } else if (f.kind == FieldKind::kBool) {
      out[name] = false;
    } else if (f.kind == FieldKind::kEnum) {
      out[name] = f.values.front();
    } else {
      out[name] = nullptr;
    }
  }
  return out;
}

// Why `value` is not a valid `spec` (nullopt when it is); its storable form in *out.
std::optional<std::string> ValidateProp(const AppPropSpec& spec, const json& value, json* out) {
  *out = value;
  switch (spec.kind) {
    case K::kString:
      if (!value.is_string() && !value.is_null()) return "expected a string";
      return std::nullopt;
    case K::kRequiredString:
      if (!value.is_string() || value.get<std::string>().empty()) {
        return "expected a non-empty string";
      }
      return std::nullopt;
    case K::kBool:
      if (!value.is_boolean()) return "expected a boolean";
      return std::nullopt;
    case K::kInt:
      if (!value.is_number_integer() || value.get<int64_t>() < -2147483648LL ||
          value.get<int64_t>() > 2147483647LL) {
        return "expected an Int32";
      }
      return std::nullopt;
    case K::kEnum: {
      auto member =
          value.is_string() ? EnumMember(spec.values, value.get<std::string>()) : std::nullopt;
      if (!member) return "'" + value.dump() + "' is not a member of the enumeration";
      *out = *member;
      return std::nullopt;
    }
    case K::kStringArray:
      if (!value.is_array()) return "expected an array of strings";
      for (const auto& item : value) {
        if (!item.is_string()) return "expected an array of strings";
      }
      return std::nullopt;
    case K::kBinary:
      if (!value.is_null() && !IsBase64(value)) return "expected base64 (Edm.Binary)";
      return std::nullopt;
    case K::kDateTime:
      if (!value.is_string() ||
          !ParseRfc3339(value.get<std::string>(), kGraphDateTimeOptions).ok()) {
        return "expected an RFC 3339 date-time with an offset";
      }
      return std::nullopt;
    case K::kComplex:
      if (value.is_null()) return std::nullopt;
      return ValidateComplex(value, *spec.complex, out);
    case K::kComplexArray: {
      if (!value.is_array()) return "expected an array";
      *out = json::array();
      for (const auto& item : value) {
        json normal;
        if (auto why = ValidateComplex(item, *spec.complex, &normal)) return why;
        out->push_back(RenderComplex(*spec.complex, normal));
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view FamilyName(AppFamily family) {
  return family == AppFamily::kMobileApp ? "mobileApp" : "mobileAppConfiguration";
}

const AppTypeSpec* FindAppType(AppFamily family, std::string_view name) {
  for (const auto& type : Types()) {
    if (type.family == family && type.name == name) return &type;
  }
  return nullptr;
}

std::optional<Refusal> ResolveAppType(const json& body, AppFamily family, bool required, bool beta,
                                      const AppTypeSpec** type) {
  *type = nullptr;
  const std::string family_name(FamilyName(family));
  auto it = body.find("@odata.type");
  if (it == body.end()) {
    if (!required) return std::nullopt;
    return Refusal{400, "BadRequest",
                   "A " + family_name +
                       " must be created with an '@odata.type' naming a concrete "
                       "type.",
                   family_name + ": missing @odata.type"};
  }
  const std::string name = it->is_string() ? it->get<std::string>() : it->dump();
  const std::string prefix = "#" + std::string(kGraphPrefix);
  if (name.rfind(prefix, 0) == 0) {
    std::string_view short_name = std::string_view(name).substr(prefix.size());
    if (!required && short_name == BaseTypeName(family)) return std::nullopt;
    const AppTypeSpec* found = FindAppType(family, short_name);
    if (found != nullptr && (beta || !found->beta_only)) {
      *type = found;
      return std::nullopt;
    }
  }
  return Refusal{400, "BadRequest",
                 "The type '" + name + "' is not a supported " + family_name + " type" +
                     (beta ? "." : " under /v1.0."),
                 family_name + ": unsupported @odata.type"};
}

std::optional<Refusal> ValidateAppBody(const json& body, AppFamily family, const AppTypeSpec* type,
                                       bool create, bool beta, json* props) {
  const std::string family_name(FamilyName(family));
  const std::string type_name(type ? type->name : BaseTypeName(family));
  const std::vector<AppPropSpec>& specs = type ? type->props : BaseProps(family);
  auto refuse = [&](const std::string& reason, const std::string& message) {
    return Refusal{400, "BadRequest", message, family_name + ": " + reason};
  };
  *props = json::object();
  for (const auto& [name, value] : body.items()) {
    if (name == "@odata.type") continue;
    const AppPropSpec* spec = nullptr;
    for (const auto& p : specs) {
      if (p.name == name && (beta || !p.beta_only)) spec = &p;
    }
    if (spec == nullptr) {
      return refuse("unknown property",
                    "The property '" + name + "' does not exist on type 'microsoft.graph." +
                        type_name +
                        "'. Make sure to only use property names that are defined by the type.");
    }
    json normal;
    if (auto why = ValidateProp(*spec, value, &normal)) {
      return refuse("invalid " + name, "Invalid value for property '" + name +
                                           "' of type 'microsoft.graph." + type_name +
                                           "': " + *why + ".");
    }
    if (!spec->read_only) (*props)[name] = std::move(normal);
  }
  if (create) {
    for (const auto& p : specs) {
      if (p.kind == K::kRequiredString && !body.contains(std::string(p.name))) {
        return refuse("missing property", "The property '" + std::string(p.name) +
                                              "' is required on type 'microsoft.graph." +
                                              type_name + "'.");
      }
    }
  }
  return std::nullopt;
}

json RenderAppProps(const AppTypeSpec& type, const json& props, bool beta) {
  json out = json::object();
  for (const auto& p : type.props) {
    if (p.beta_only && !beta) continue;
    std::string name(p.name);
    if (props.contains(name)) {
      out[name] = p.kind == K::kComplex && props[name].is_object()
                      ? RenderComplex(*p.complex, props[name])
                      : props[name];
    } else if (!p.fallback.empty()) {
      out[name] = json::parse(p.fallback);
    } else if (p.kind == K::kBool) {
      out[name] = false;
    } else if (p.kind == K::kInt) {
      out[name] = 0;
    } else if (p.kind == K::kEnum) {
      out[name] = p.values.front();
    } else if (p.kind == K::kStringArray || p.kind == K::kComplexArray) {
      out[name] = json::array();
    } else {
      out[name] = nullptr;
    }
  }
  return out;
}

std::optional<Refusal> ParseAppRequest(const Operation& op, AppFamily family, bool create,
                                       const AppTypeSpec** type, json* props) {
  const bool beta = op.version == "beta";
  auto parsed = ParseJsonBody(op, FamilyName(family));
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return *refusal;
  const json& body = std::get<json>(parsed);
  if (auto refusal = ResolveAppType(body, family, create, beta, type)) return refusal;
  return ValidateAppBody(body, family, *type, create, beta, props);
}

}  // namespace certdeploy::sandbox::internal
