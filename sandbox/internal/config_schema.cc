#include "sandbox/internal/config_schema.h"

#include <algorithm>
#include <span>

#include "base/encoding.h"
#include "base/time_format.h"
#include "pkcs/certificate.h"

namespace certdeploy::sandbox::internal {
namespace {

using V = std::vector<std::string_view>;

const V kIntendedPurpose = {"unassigned", "smimeEncryption", "smimeSigning", "vpn", "wifi"};
const V kAppleChannel = {"deviceChannel", "userChannel", "unknownFutureValue"};
const V kDestinationStore = {"computerCertStoreRoot", "computerCertStoreIntermediate",
                             "userCertStoreIntermediate"};
const V kAppleSubjectName = {"commonName",       "commonNameAsEmail",
                             "custom",           "commonNameIncludingEmail",
                             "commonNameAsIMEI", "commonNameAsSerialNumber"};
const V kSubjectName = {"commonName",
                        "commonNameIncludingEmail",
                        "commonNameAsEmail",
                        "custom",
                        "commonNameAsIMEI",
                        "commonNameAsSerialNumber",
                        "commonNameAsAadDeviceId",
                        "commonNameAsIntuneDeviceId",
                        "commonNameAsDurableDeviceId"};
const V kSanType = {"none",
                    "emailAddress",
                    "userPrincipalName",
                    "customAzureADAttribute",
                    "domainNameService",
                    "universalResourceIdentifier"};
const V kValidityScale = {"days", "months", "years"};
const V kKeyStorage = {"useTpmKspOtherwiseUseSoftwareKsp", "useTpmKspOtherwiseFail",
                       "usePassportForWorkKspOtherwiseFail", "useSoftwareKsp"};
const V kAccessType = {"userApproval", "specificApps", "unknownFutureValue"};

std::vector<PropSpec> TrustedRootProps() {
  return {{"trustedRootCertificate", PropKind::kCaCertificate},
          {"certFileName", PropKind::kString}};
}

std::vector<PropSpec> AndroidPfxProps() {
  return {{"renewalThresholdPercentage", PropKind::kInt, {}, 1, 99},
          {"subjectNameFormat", PropKind::kEnum, kSubjectName},
          {"subjectAlternativeNameType", PropKind::kFlagsEnum, kSanType},
          {"certificateValidityPeriodValue", PropKind::kInt, {}, 0},
          {"certificateValidityPeriodScale", PropKind::kEnum, kValidityScale},
          {"extendedKeyUsages", PropKind::kExtendedKeyUsages},
          {"intendedPurpose", PropKind::kEnum, kIntendedPurpose},
          {"rootCertificate@odata.bind", PropKind::kODataBind}};
}

std::vector<TypeSpec> BuildTypes() {
  std::vector<TypeSpec> types;
  for (std::string_view name :
       {"iosTrustedRootCertificate", "androidTrustedRootCertificate",
        "androidForWorkTrustedRootCertificate", "androidWorkProfileTrustedRootCertificate",
        "androidDeviceOwnerTrustedRootCertificate"}) {
    types.push_back({name, true, TrustedRootProps()});
  }
  TypeSpec mac{"macOSTrustedRootCertificate", true, TrustedRootProps()};
  mac.props.push_back({"deploymentChannel", PropKind::kEnum, kAppleChannel});
  types.push_back(mac);
  TypeSpec win{"windows81TrustedRootCertificate", true, TrustedRootProps()};
  win.props.push_back({"destinationStore", PropKind::kEnum, kDestinationStore});
  types.push_back(win);

  types.push_back({"iosImportedPFXCertificateProfile",
                   false,
                   {{"intendedPurpose", PropKind::kEnum, kIntendedPurpose}}});
  types.push_back({"macOSImportedPFXCertificateProfile",
                   false,
                   {{"renewalThresholdPercentage", PropKind::kInt, {}, 1, 99},
                    {"subjectNameFormat", PropKind::kEnum, kAppleSubjectName},
                    {"subjectAlternativeNameType", PropKind::kFlagsEnum, kSanType},
                    {"certificateValidityPeriodValue", PropKind::kInt, {}, 0},
                    {"certificateValidityPeriodScale", PropKind::kEnum, kValidityScale},
                    {"intendedPurpose", PropKind::kEnum, kIntendedPurpose}}});
  types.push_back({"androidImportedPFXCertificateProfile", false, AndroidPfxProps()});
  types.push_back({"androidForWorkImportedPFXCertificateProfile", false, AndroidPfxProps()});
  TypeSpec owner{"androidDeviceOwnerImportedPFXCertificateProfile", false, AndroidPfxProps()};
  owner.props.push_back({"certificateAccessType", PropKind::kEnum, kAccessType});
  owner.props.push_back({"silentCertificateAccessDetails", PropKind::kSilentAccessDetails});
  types.push_back(owner);
  types.push_back({"windows10ImportedPFXCertificateProfile",
                   false,
                   {{"renewalThresholdPercentage", PropKind::kInt, {}, 1, 99},
                    {"keyStorageProvider", PropKind::kEnum, kKeyStorage},
                    {"subjectNameFormat", PropKind::kEnum, kSubjectName},
                    {"subjectAlternativeNameType", PropKind::kFlagsEnum, kSanType},
                    {"certificateValidityPeriodValue", PropKind::kInt, {}, 0},
                    {"certificateValidityPeriodScale", PropKind::kEnum, kValidityScale},
                    {"intendedPurpose", PropKind::kEnum, kIntendedPurpose}}});
  return types;
}

bool IsMember(const V& values, std::string_view s) {
  for (auto v : values) {
    if (v == s) return true;
  }
  return false;
}

// Checks an array of objects whose keys are all in `keys` (plus "@odata.type") with string
// values, at most `max` long, each having `required`.
bool ValidObjectArray(const json& value, std::initializer_list<std::string_view> keys,
                      std::string_view required, size_t max) {
  if (!value.is_array() || value.size() > max) return false;
  for (const auto& item : value) {
    if (!item.is_object() || !item.contains(std::string(required))) return false;
    for (const auto& [k, v] : item.items()) {
      if (k == "@odata.type") continue;
      if (std::find(keys.begin(), keys.end(), k) == keys.end() || !v.is_string()) return false;
    }
  }
  return true;
}

// The id inside ".../deviceConfigurations('<id>')" or ".../deviceConfigurations/<id>".
std::string BoundId(const std::string& url) {
  size_t open = url.rfind("('");
  if (open != std::string::npos && url.size() >= open + 4 &&
      url.compare(url.size() - 2, 2, "')") == 0) {
    return url.substr(open + 2, url.size() - open - 4);
  }
  size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

}  // namespace

const TypeSpec* FindConfigType(std::string_view name) {
  static const std::vector<TypeSpec>* types = new std::vector<TypeSpec>(BuildTypes());
  for (const auto& type : *types) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

const std::vector<PropSpec>& BaseConfigProps() {
  static const std::vector<PropSpec>* props = new std::vector<PropSpec>{
      {"id", PropKind::kString, {}, 0, 0, true},
      {"createdDateTime", PropKind::kDateTime, {}, 0, 0, true},
      {"lastModifiedDateTime", PropKind::kDateTime, {}, 0, 0, true},
      {"supportsScopeTags", PropKind::kBool, {}, 0, 0, true},
      {"version", PropKind::kInt, {}, 0, 2147483647, true},
      {"displayName", PropKind::kRequiredString},
      {"description", PropKind::kString},
      {"roleScopeTagIds", PropKind::kStringArray},
      {"deviceManagementApplicabilityRuleOsEdition", PropKind::kObjectOrNull},
      {"deviceManagementApplicabilityRuleOsVersion", PropKind::kObjectOrNull},
      {"deviceManagementApplicabilityRuleDeviceMode", PropKind::kObjectOrNull},
  };
  return *props;
}

std::optional<Refusal> ValidateConfigBody(const json& body, const TypeSpec* type, bool create,
                                          const std::function<bool(const std::string&)>& exists,
                                          ValidatedConfig* out) {
  std::string type_name = type ? std::string(type->name) : "deviceConfiguration";
  auto refuse = [&](const std::string& reason, const std::string& message) {
    return Refusal{400, "BadRequest", message, "deviceConfiguration: " + reason};
  };
  auto find = [&](const std::string& name) -> const PropSpec* {
    for (const auto& p : BaseConfigProps()) {
      if (p.name == name) return &p;
    }
    if (type) {
      for (const auto& p : type->props) {
        if (p.name == name) return &p;
      }
    }
    return nullptr;
  };
  for (const auto& [name, value] : body.items()) {
    if (name == "@odata.type") continue;
    const PropSpec* spec = find(name);
    if (spec == nullptr) {
      return refuse("unknown property",
                    "The property '" + name + "' does not exist on type 'microsoft.graph." +
                        type_name +
                        "'. Make sure to only use property names that are defined by the type.");
    }
    auto invalid = [&, &name = name](const std::string& why) {
      return refuse("invalid " + name, "Invalid value for property '" + name +
                                           "' of type "
                                           "'microsoft.graph." +
                                           type_name + "': " + why + ".");
    };
    switch (spec->kind) {
      case PropKind::kString:
        if (!value.is_string() && !value.is_null()) return invalid("expected a string");
        break;
      case PropKind::kRequiredString:
        if (!value.is_string() || value.get<std::string>().empty()) {
          return invalid("expected a non-empty string");
        }
        break;
      case PropKind::kInt:
        if (!value.is_number_integer() || value.get<int64_t>() < spec->min ||
            value.get<int64_t>() > spec->max) {
          return invalid("expected an integer in [" + std::to_string(spec->min) + ", " +
                         std::to_string(spec->max) + "]");
        }
        break;
      case PropKind::kBool:
        if (!value.is_boolean()) return invalid("expected a boolean");
        break;
      case PropKind::kEnum:
        if (!value.is_string() || !IsMember(spec->values, value.get<std::string>())) {
          return invalid("'" + value.dump() + "' is not a member of the enumeration");
        }
        break;
      case PropKind::kFlagsEnum: {
        if (!value.is_string()) return invalid("expected a string");
        std::string s = value.get<std::string>();
        size_t start = 0;
        while (true) {
          size_t comma = s.find(',', start);
          std::string member = s.substr(start, comma == std::string::npos ? comma : comma - start);
          member.erase(0, member.find_first_not_of(' '));
          if (!IsMember(spec->values, member)) {
            return invalid("'" + member + "' is not a member of the enumeration");
          }
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        break;
      }
      case PropKind::kStringArray:
        if (!value.is_array()) return invalid("expected an array of strings");
        for (const auto& item : value) {
          if (!item.is_string()) return invalid("expected an array of strings");
        }
        break;
      case PropKind::kObjectOrNull:
        if (!value.is_object() && !value.is_null()) return invalid("expected an object");
        break;
      case PropKind::kDateTime:
        if (!value.is_string() ||
            !ParseRfc3339(value.get<std::string>(), kGraphDateTimeOptions).ok()) {
          return invalid("expected an RFC 3339 date-time with an offset");
        }
        break;
      case PropKind::kCaCertificate: {
        if (!value.is_string()) return invalid("expected base64 of a DER certificate");
        auto der = Base64Decode(value.get<std::string>());
        if (!der || der->empty()) {
          return refuse("trustedRootCertificate not base64",
                        "Invalid value for property 'trustedRootCertificate': not base64.");
        }
        // Intune keeps the bytes of the uploaded .cer file as given: DER, or PEM text holding
        // one certificate (what the portal stores when an admin uploads a PEM file).
        Result<pkcs::Certificate> cert = InvalidArgumentError("empty");
        if (der->find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
          auto pem = pkcs::ParseCertificatesPem(*der);
          if (pem.ok() && pem->size() == 1) cert = pem->front();
        } else {
          cert = pkcs::ParseCertificateDer(std::span<const uint8_t>(
              reinterpret_cast<const uint8_t*>(der->data()), der->size()));
        }
        if (!cert.ok()) {
          return refuse("trustedRootCertificate not a certificate",
                        "Invalid value for property 'trustedRootCertificate': not a DER or PEM "
                        "certificate.");
        }
        if (!cert->is_ca) {
          return refuse("trustedRootCertificate not a CA",
                        "Invalid value for property 'trustedRootCertificate': the certificate is "
                        "not a certification authority (basicConstraints cA is not set).");
        }
        out->root_sha1 = cert->sha1;
        break;
      }
      case PropKind::kExtendedKeyUsages:
        if (!ValidObjectArray(value, {"name", "objectIdentifier"}, "objectIdentifier", 500)) {
          return invalid("expected at most 500 {name, objectIdentifier} objects");
        }
        break;
      case PropKind::kSilentAccessDetails:
        if (!ValidObjectArray(value, {"packageId"}, "packageId", 50)) {
          return invalid("expected at most 50 {packageId} objects");
        }
        break;
      case PropKind::kODataBind:
        if (!value.is_string() || !exists(BoundId(value.get<std::string>()))) {
          return invalid("the bound deviceConfiguration does not exist");
        }
        out->props[name] = BoundId(value.get<std::string>());
        continue;
    }
    if (!spec->read_only) out->props[name] = value;
  }
  if (create) {
    for (const auto* props : {&BaseConfigProps(), type ? &type->props : nullptr}) {
      if (props == nullptr) continue;
      for (const auto& p : *props) {
        bool required = p.kind == PropKind::kRequiredString || p.kind == PropKind::kCaCertificate;
        if (required && !body.contains(std::string(p.name))) {
          return refuse("missing property", "The property '" + std::string(p.name) +
                                                "' is required on type 'microsoft.graph." +
                                                type_name + "'.");
        }
      }
    }
  }
  return std::nullopt;
}

json RenderConfigProps(const TypeSpec& type, const json& props) {
  json out = json::object();
  for (const auto& p : type.props) {
    if (p.kind == PropKind::kODataBind) continue;  // A navigation, not a property.
    std::string name(p.name);
    if (props.contains(name)) {
      out[name] = props[name];
    } else if (p.kind == PropKind::kEnum || p.kind == PropKind::kFlagsEnum) {
      out[name] = p.values.front();
    } else if (p.kind == PropKind::kInt) {
      out[name] = 0;
    } else if (p.kind == PropKind::kExtendedKeyUsages || p.kind == PropKind::kSilentAccessDetails ||
               p.kind == PropKind::kStringArray) {
      out[name] = json::array();
    } else {
      out[name] = nullptr;
    }
  }
  return out;
}

}  // namespace certdeploy::sandbox::internal
