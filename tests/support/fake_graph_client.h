// tests/support/fake_graph_client.h: an in-memory graph::GraphClient holding a tiny Intune tenant.
//
// Serves the paths graph::IntuneApi uses for deviceConfigurations (list, create, /assign,
// /assignments), mobileApps (list) and mobileAppConfigurations (list, create, get, patch,
// /assign, /assignments) and userPfxCertificates (list with the tolower(...) eq '...' filters,
// create with the import service's opaque 400 on a duplicate id, get, patch, delete), records every request, and injects faults:
//   - kDropAfterApply:   the write is applied, then the "response is lost" (kUnknownOutcome);
//   - kLoseBeforeApply:  the write is lost before reaching the tenant (kUnknownOutcome);
//   - kError:            the request fails with a given Status, nothing applied.
// Thread-safe, so executor tests can run several workers against it.
//
//   FakeGraphClient graph;
//   graph.Inject({"POST", "/deviceManagement/userPfxCertificates", Fault::kDropAfterApply});
//   ExecutePlan(plan, graph, options);
//   EXPECT_EQ(graph.PfxRecords().size(), 1u);

#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/strings.h"
#include "graph/graph_client.h"

namespace certdeploy::testing {

class FakeGraphClient : public graph::GraphClient {
 public:
  // kBareAnswer applies the write and answers 201 with an empty body (a 2xx whose fields are
  // missing).
  // kAnswerWithoutApply answers 204 and applies nothing (a DELETE Graph "accepted" while the
  // record stayed).
  enum class Fault { kDropAfterApply, kLoseBeforeApply, kError, kBareAnswer, kAnswerWithoutApply };
  struct FaultRule {
    std::string method;       // "POST", "GET", ...
    std::string path_prefix;  // Matched against the path without its query.
    Fault fault = Fault::kError;
    Status error = UnavailableError("injected");  // For kError.
    int times = 1;                                // How many matching requests it hits.
  };
  struct Request {
    std::string method;
    std::string path;  // Without the query.
    std::string query;
    nlohmann::json body;
  };

  // Properties left out of list answers (GET of one object still has them), as Graph may do
  // with binary properties.
  void OmitFromLists(std::string property) {
    std::lock_guard<std::mutex> lock(mu_);
    omitted_.push_back(std::move(property));
  }

  void Inject(FaultRule rule) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back(std::move(rule));
  }

  // Seeds a profile (its JSON as Graph returns it, "id" included) with assignments.
  void AddConfiguration(nlohmann::json config, std::vector<nlohmann::json> assignments = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string id = config.at("id");
    configs_[id] = std::move(config);
    assignments_[id] = std::move(assignments);
  }
  // Seeds a mobileApp (Graph JSON, "id" and "@odata.type" included).
  void AddMobileApp(nlohmann::json app) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string id = app.at("id");
    apps_[id] = std::move(app);
  }
  // Seeds a mobileAppConfiguration (Graph JSON, "id" included) with assignments.
  void AddAppConfiguration(nlohmann::json config, std::vector<nlohmann::json> assignments = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string id = config.at("id");
    app_configs_[id] = std::move(config);
    app_assignments_[id] = std::move(assignments);
  }
  std::vector<nlohmann::json> AppConfigurations() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<nlohmann::json> out;
    for (const auto& [id, c] : app_configs_) out.push_back(c);
    return out;
  }
  std::vector<nlohmann::json> AppAssignmentsOf(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = app_assignments_.find(id);
    return it == app_assignments_.end() ? std::vector<nlohmann::json>{} : it->second;
  }
  // Seeds a userPfxCertificate (Graph JSON, "id" included).
  void AddPfx(nlohmann::json record) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string id = record.at("id");
    pfx_[id] = std::move(record);
  }

  std::vector<nlohmann::json> Configurations() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<nlohmann::json> out;
    for (const auto& [id, c] : configs_) out.push_back(c);
    return out;
  }
  std::vector<nlohmann::json> AssignmentsOf(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = assignments_.find(id);
    return it == assignments_.end() ? std::vector<nlohmann::json>{} : it->second;
  }
  // Stored records, secrets included as they were POSTed (tests check the sealing).
  std::vector<nlohmann::json> PfxRecords() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<nlohmann::json> out;
    for (const auto& [id, r] : pfx_posted_) out.push_back(r);
    return out;
  }
  size_t PfxCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pfx_.size();
  }
  std::vector<Request> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int Writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(std::count_if(requests_.begin(), requests_.end(),
                                          [](const Request& r) { return r.method != "GET"; }));
  }

  // GraphClient:
  Result<graph::GraphResponse> Get(std::string_view path) override {
    return Handle("GET", path, nullptr);
  }
  Result<graph::GraphResponse> Post(std::string_view path, const nlohmann::json& body) override {
    return Handle("POST", path, &body);
  }
  Result<graph::GraphResponse> Patch(std::string_view path, const nlohmann::json& body) override {
    return Handle("PATCH", path, &body);
  }
  Result<graph::GraphResponse> Delete(std::string_view path) override {
    return Handle("DELETE", path, nullptr);
  }
  Result<std::vector<nlohmann::json>> ListAll(std::string_view path) override {
    Result<graph::GraphResponse> r = Get(path);
    if (!r.ok()) return r.status();
    return r->body.at("value").get<std::vector<nlohmann::json>>();
  }
  // Each item as a single request (GET only: the product batches reads).
  Result<std::vector<graph::BatchItemResult>> Batch(
      const std::vector<graph::BatchItem>& items) override {
    std::vector<graph::BatchItemResult> out;
    for (const graph::BatchItem& item : items) {
      if (item.method != "GET") return InternalError("FakeGraphClient: $batch reads only");
      Result<graph::GraphResponse> r = Get(item.url);
      graph::BatchItemResult result;
      result.id = item.id;
      result.status = r.status();
      result.http_status = r.ok() ? r->status
                                  : (r.status().details() ? r.status().details()->http_status : 0);
      if (r.ok()) result.body = r->body;
      out.push_back(std::move(result));
    }
    return out;
  }
  // Directory entries. GET /users/{upn} finds any user (mail = UPN, "SMTP:<upn>") unless set
  // here (null: no such user); the paged list GET /v1.0/users holds only the users added here.
  void SetUser(const std::string& upn, nlohmann::json user) {
    std::lock_guard<std::mutex> lock(mu_);
    users_[Lower(upn)] = std::move(user);
  }
  // Directory groups, served by GET /v1.0/groups?$filter=displayName eq '...'.
  void AddGroup(const std::string& id, const std::string& display_name) {
    std::lock_guard<std::mutex> lock(mu_);
    groups_.emplace_back(id, display_name);
  }
  void AddUsers(const std::vector<std::string>& upns) {
    for (const std::string& upn : upns) SetUser(upn, DefaultUser(upn));
  }
  static nlohmann::json DefaultUser(const std::string& upn) {
    return {{"id", "id-" + Lower(upn)},
            {"userPrincipalName", upn},
            {"mail", upn},
            {"proxyAddresses", {"SMTP:" + upn}}};
  }

 private:
  static constexpr char kConfigs[] = "/deviceManagement/deviceConfigurations";
  static constexpr char kPfx[] = "/deviceManagement/userPfxCertificates";
  static constexpr char kApps[] = "/deviceAppManagement/mobileApps";
  static constexpr char kAppConfigs[] = "/deviceAppManagement/mobileAppConfigurations";

  // Takes the std::string a json value converts to.
  static std::string Lower(const std::string& s) { return AsciiToLower(s); }
  // The client sends well-formed escapes only; anything else is kept as it is.
  static std::string Decoded(std::string_view s) {
    return PercentDecode(s, /*plus_is_space=*/false).value_or(std::string(s));
  }
  // The literal after "<property>) eq " in an OData filter, '' unescaped; "" if absent.
  static std::string FilterValue(const std::string& filter, const std::string& property) {
    return LiteralAfter(filter, "tolower(" + property + ") eq '");
  }
  // The OData string literal that starts right after `needle`, '' unescaped; "" if absent.
  static std::string LiteralAfter(const std::string& filter, const std::string& needle) {
    size_t at = filter.find(needle);
    if (at == std::string::npos) return "";
    std::string out;
    for (size_t i = at + needle.size(); i < filter.size(); ++i) {
      if (filter[i] == '\'') {
        if (i + 1 < filter.size() && filter[i + 1] == '\'') {
          out += '\'';
          ++i;
          continue;
        }
        break;
      }
      out += filter[i];
    }
    return out;
  }
  static Status GraphError(StatusCode code, int http, const std::string& service_code,
                           const std::string& message) {
    StatusDetails d;
    d.http_status = http;
    d.service_code = service_code;
    d.request_id = "fake-request-id";
    return Status(code, message + " (request-id fake-request-id)", d);
  }
  static graph::GraphResponse Ok(nlohmann::json body, int status = 200) {
    return graph::GraphResponse{status, std::move(body), "fake-request-id"};
  }

  Result<graph::GraphResponse> Handle(const std::string& method, std::string_view target,
                                      const nlohmann::json* body) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string path(target.substr(0, target.find('?')));
    std::string query = target.find('?') == std::string_view::npos
                            ? ""
                            : Decoded(target.substr(target.find('?') + 1));
    requests_.push_back({method, path, query, body ? *body : nlohmann::json()});
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
      if (it->method != method || path.rfind(it->path_prefix, 0) != 0) continue;
      FaultRule rule = *it;
      if (--it->times <= 0) faults_.erase(it);
      if (rule.fault == Fault::kError) return rule.error;
      if (rule.fault == Fault::kLoseBeforeApply) return UnknownOutcomeError("injected: lost");
      if (rule.fault == Fault::kAnswerWithoutApply) return Ok(nullptr, 204);
      Result<graph::GraphResponse> applied = Route(method, path, query, body);
      if (rule.fault == Fault::kBareAnswer && applied.ok()) {
        return Ok(nlohmann::json::object(), 201);
      }
      return UnknownOutcomeError("injected: response dropped after commit");
    }
    return Route(method, path, query, body);
  }

  Result<graph::GraphResponse> Route(const std::string& method, const std::string& path,
                                     const std::string& query, const nlohmann::json* body) {
    if ((path.rfind("/users/", 0) == 0 || path.rfind("/v1.0/users/", 0) == 0) && method == "GET") {
      const std::string upn = Lower(Decoded(path.substr(path.find("/users/") + 7)));
      auto it = users_.find(upn);
      if (it != users_.end() && it->second.is_null()) {
        return GraphError(StatusCode::kNotFound, 404, "Request_ResourceNotFound", "no " + upn);
      }
      if (it != users_.end()) return Ok(it->second);
      return Ok(DefaultUser(upn));
    }
    if (path == "/v1.0/groups" && method == "GET") {
      // Only the filter IntuneApi::FindGroupsByDisplayName sends; names compare as written.
      if (query.find("$filter=displayName eq '") == std::string::npos) {
        return GraphError(StatusCode::kInvalidArgument, 400, "Request_UnsupportedQuery",
                          "FakeGraphClient: groups are found by displayName only");
      }
      const std::string name = LiteralAfter(query, "$filter=displayName eq '");
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [id, display_name] : groups_) {
        if (display_name == name) value.push_back({{"id", id}, {"displayName", display_name}});
      }
      return Ok({{"value", value}});
    }
    if (path == "/v1.0/users" && method == "GET") {
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [upn, user] : users_) {
        if (!user.is_null()) value.push_back(user);
      }
      return Ok({{"value", value}});
    }
    if (path == kConfigs && method == "GET") {
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [id, c] : configs_) {
        nlohmann::json listed = c;
        for (const std::string& p : omitted_) listed.erase(p);
        value.push_back(std::move(listed));
      }
      return Ok({{"value", value}});
    }
    if (path == kConfigs && method == "POST") {
      std::string id = "cfg-" + std::to_string(++next_id_);
      nlohmann::json c = *body;
      c["id"] = id;
      configs_[id] = c;
      assignments_[id] = {};
      return Ok(c, 201);
    }
    if (path.rfind(std::string(kConfigs) + "/", 0) == 0) {
      std::string rest = path.substr(sizeof(kConfigs));
      std::string id = rest.substr(0, rest.find('/'));
      std::string tail = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/'));
      if (!configs_.count(id))
        return GraphError(StatusCode::kNotFound, 404, "NotFound", "no " + id);
      if (tail == "/assignments" && method == "GET") {
        return Ok({{"value", assignments_[id]}});
      }
      if (tail == "/assign" && method == "POST") {
        std::vector<nlohmann::json> set;
        for (const nlohmann::json& a : body->at("assignments")) {
          nlohmann::json stored = a;
          stored["id"] = id + "_" + a["target"].value("groupId", "all");
          set.push_back(stored);
        }
        assignments_[id] = set;  // /assign replaces the whole set.
        return Ok({{"value", set}});
      }
      if (tail.empty() && method == "GET") return Ok(configs_[id]);
      if (tail.empty() && method == "PATCH") {
        for (const auto& [k, v] : body->items()) configs_[id][k] = v;
        return Ok(configs_[id]);
      }
    }
    if (path == kApps && method == "GET") {
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [id, app] : apps_) value.push_back(app);
      return Ok({{"value", value}});
    }
    if (path == kAppConfigs && method == "GET") {
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [id, c] : app_configs_) {
        nlohmann::json listed = c;
        for (const std::string& p : omitted_) listed.erase(p);
        value.push_back(std::move(listed));
      }
      return Ok({{"value", value}});
    }
    if (path == kAppConfigs && method == "POST") {
      std::string id = "appcfg-" + std::to_string(++next_id_);
      nlohmann::json c = *body;
      c["id"] = id;
      app_configs_[id] = c;
      app_assignments_[id] = {};
      return Ok(c, 201);
    }
    if (path.rfind(std::string(kAppConfigs) + "/", 0) == 0) {
      std::string rest = path.substr(sizeof(kAppConfigs));
      std::string id = rest.substr(0, rest.find('/'));
      std::string tail = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/'));
      if (!app_configs_.count(id)) {
        return GraphError(StatusCode::kNotFound, 404, "NotFound", "no " + id);
      }
      if (tail == "/assignments" && method == "GET") {
        return Ok({{"value", app_assignments_[id]}});
      }
      if (tail == "/microsoft.graph.managedDeviceMobileAppConfiguration/assign" &&
          method == "POST") {
        std::vector<nlohmann::json> set;
        for (const nlohmann::json& a : body->at("assignments")) {
          nlohmann::json stored = a;
          stored["id"] = id + "_" + a["target"].value("groupId", "all");
          set.push_back(stored);
        }
        app_assignments_[id] = set;
        return Ok(nullptr, 204);
      }
      if (tail.empty() && method == "GET") return Ok(app_configs_[id]);
      if (tail.empty() && method == "PATCH") {
        for (const auto& [k, v] : body->items()) app_configs_[id][k] = v;
        return Ok(app_configs_[id]);
      }
    }
    if (path == kPfx && method == "GET") {
      std::string upn = Lower(FilterValue(query, "userPrincipalName"));
      std::string thumbprint = Lower(FilterValue(query, "thumbprint"));
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [id, r] : pfx_) {
        if (!upn.empty() && Lower(r["userPrincipalName"]) != upn) continue;
        if (!thumbprint.empty() && Lower(r["thumbprint"]) != thumbprint) continue;
        value.push_back(r);
      }
      return Ok({{"value", value}});
    }
    if (path == kPfx && method == "POST") {
      std::string id = "u-" + Lower(body->at("userPrincipalName")) + "-" +
                       body->at("thumbprint").get<std::string>();
      if (pfx_.count(id)) {
        // As the import service does: no documented 409, an opaque 400.
        return GraphError(StatusCode::kInvalidArgument, 400, "BadRequest",
                          "An error has occurred - Operation ID (for customer support): " + id);
      }
      nlohmann::json r = *body;
      r["id"] = id;
      pfx_posted_[id] = r;
      r["encryptedPfxBlob"] = "AA==";
      r["encryptedPfxPassword"] = "";
      pfx_[id] = r;
      return Ok(r, 201);
    }
    if (path.rfind(std::string(kPfx) + "/", 0) == 0) {
      std::string id = Decoded(path.substr(sizeof(kPfx)));
      if (!pfx_.count(id)) return GraphError(StatusCode::kNotFound, 404, "NotFound", "no " + id);
      if (method == "GET") return Ok(pfx_[id]);
      if (method == "DELETE") {
        pfx_.erase(id);
        pfx_posted_.erase(id);
        return Ok(nullptr, 204);
      }
      if (method == "PATCH") {  // Graph answers 200 with the record.
        for (const auto& [k, v] : body->items()) {
          if (k == "id" && v != id) {
            return GraphError(StatusCode::kInvalidArgument, 400, "BadRequest", "id changed");
          }
          pfx_posted_[id][k] = v;
          if (k != "encryptedPfxBlob" && k != "encryptedPfxPassword") pfx_[id][k] = v;
        }
        return Ok(pfx_[id]);
      }
    }
    return GraphError(StatusCode::kInvalidArgument, 400, "BadRequest",
                      "FakeGraphClient: unsupported " + method + " " + path);
  }

  mutable std::mutex mu_;
  std::vector<FaultRule> faults_;
  std::map<std::string, nlohmann::json> configs_;
  std::map<std::string, std::vector<nlohmann::json>> assignments_;
  std::map<std::string, nlohmann::json> apps_;
  std::map<std::string, nlohmann::json> app_configs_;
  std::map<std::string, std::vector<nlohmann::json>> app_assignments_;
  std::map<std::string, nlohmann::json> pfx_;         // As GET returns them.
  std::map<std::string, nlohmann::json> pfx_posted_;  // As they were POSTed.
  std::map<std::string, nlohmann::json> users_;       // null: no such user.
  std::vector<std::pair<std::string, std::string>> groups_;  // id, displayName.
  std::vector<Request> requests_;
  std::vector<std::string> omitted_;
  int next_id_ = 0;
};

}  // namespace certdeploy::testing
