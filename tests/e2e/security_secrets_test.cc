// Secret hygiene of the real daemon: after a demo-sized run through `certdeploy serve`
// over TLS (enrollments, a rollout, failing requests) and `certdeploy plan --out` + `apply --plan`
// against the sandbox, the PFX password and the PFX bytes (raw, base64, base64url, and windows of
// each to catch partial leaks) appear in no log, store file, plan file, audit row, metrics text,
// HTTP response body or any other file the run left behind. And the daemon cannot dump core:
// RLIMIT_CORE is 0 and the process is not dumpable.
//
// How "not dumpable" is observed: the kernel reports the files in /proc/<pid>/ of a non-dumpable
// process (environ, status, ...; not the directory itself) as owned by root (task_dump_owner),
// whatever its uid. That is visible only when
// the daemon runs as another user, so when the test runs as root the daemon is started through
// `setpriv --reuid=65534`, and a dumpable control process under the same uid shows the
// difference.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pkcs12.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>

#include "base/clock.h"
#include "base/encoding.h"
#include "store/job_store.h"
#include "tests/e2e/security_fixtures.h"
#include "tests/support/subprocess.h"

namespace certdeploy::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string RandomPassword() {
  static const char kChars[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::random_device rd;
  std::string out = "Hyg-";
  for (int i = 0; i < 20; ++i) out += kChars[rd() % (sizeof(kChars) - 1)];
  return out;
}

// Re-encrypts the PFX at `file` (made under the PKI password) under `password`, in place.
bool Reencrypt(const std::string& file, const std::string& password) {
  const std::string old_password = ReadFileBytes(kPki + "/password.txt");
  const std::string der = ReadFileBytes(file);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* in = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  bool ok = in != nullptr && PKCS12_parse(in, old_password.c_str(), &key, &cert, &ca) == 1;
  PKCS12* out =
      ok ? PKCS12_create(password.c_str(), "user", key, cert, ca, 0, 0, 0, 0, 0) : nullptr;
  FILE* f = out != nullptr ? std::fopen(file.c_str(), "wb") : nullptr;
  ok = f != nullptr && i2d_PKCS12_fp(f, out) == 1;
  if (f != nullptr) std::fclose(f);
  PKCS12_free(out);
  PKCS12_free(in);
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(ca, X509_free);
  return ok;
}

struct Needle {
  std::string name;
  std::string bytes;
};

// What must not leak: the password (plain, base64, hex) and, for every PFX, its bytes whole and
// in windows (raw, hex, base64, base64url; base64 windows start at a multiple of 3 bytes, so they
// are substrings of any full encoding). A window is used only if no other PFX of the run holds
// the same bytes: every PFX shares ASN.1 headers and algorithm identifiers, which are not secret.
std::vector<Needle> PasswordNeedles(const std::string& password) {
  return {{"password", password},
          {"password base64", Base64Encode(password).substr(0, 24)},
          {"password hex", HexEncode(password)}};
}

std::vector<Needle> PfxNeedles(const std::vector<std::string>& pfx_files) {
  std::vector<std::string> all;
  for (const std::string& file : pfx_files) all.push_back(ReadFileBytes(file));
  auto shared = [&](size_t self, const std::string& window) {
    for (size_t i = 0; i < all.size(); ++i) {
      if (i != self && all[i].find(window) != std::string::npos) return true;
    }
    return false;
  };
  std::vector<Needle> out;
  for (size_t f = 0; f < pfx_files.size(); ++f) {
    const std::string& pfx = all[f];
    const fs::path path(pfx_files[f]);
    const std::string name = (path.parent_path().filename() / path.filename()).string();
    EXPECT_GT(pfx.size(), 1000u) << path;
    out.push_back({name + " raw", pfx});
    out.push_back({name + " base64", Base64Encode(pfx)});
    out.push_back({name + " base64url", Base64UrlEncode(pfx)});
    for (size_t at : {pfx.size() / 3, pfx.size() / 2, pfx.size() * 3 / 4}) {
      at -= at % 3;
      while (at + 96 < pfx.size() && shared(f, pfx.substr(at, 48))) at += 48;
      const std::string window = pfx.substr(at, 48);
      EXPECT_FALSE(shared(f, window)) << name << " has no window of its own near " << at;
      out.push_back({name + " raw@" + std::to_string(at), window.substr(0, 32)});
      out.push_back({name + " hex@" + std::to_string(at), HexEncode(window.substr(0, 24))});
      out.push_back({name + " base64@" + std::to_string(at), Base64Encode(window)});
      out.push_back({name + " base64url@" + std::to_string(at), Base64UrlEncode(window)});
    }
  }
  return out;
}

// The names of the needles found in `haystack`.
std::vector<std::string> Leaks(const std::string& haystack, const std::vector<Needle>& needles) {
  std::vector<std::string> found;
  for (const Needle& n : needles) {
    if (haystack.find(n.bytes) != std::string::npos) found.push_back(n.name);
  }
  return found;
}

// RLIMIT_CORE 0 and not dumpable (see the file comment).
// True when the test runs as root and uid 65534 can run the binary and read the test PKI: then
// the daemon runs unprivileged, which is what makes "not dumpable" observable from outside. A
// build tree inside a private directory (mode 0700, e.g. a CI checkout under mktemp -d) is not
// reachable by that uid.
bool CanRunUnprivileged() {
  if (::getuid() != 0) return false;
  CommandResult probe =
      RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                  "/usr/bin/test", "-x", CERTDEPLOY_BINARY, "-a", "-r", kPki + "/connector.pub"});
  return probe.exit_code == 0;
}

// Core dumps off (RLIMIT_CORE 0) always; and, for an unprivileged daemon, not dumpable.
void ExpectNoCoreDumps(pid_t pid, bool unprivileged) {
  const std::string proc = "/proc/" + std::to_string(pid);
  EXPECT_THAT(ReadFileBytes(proc + "/limits"),
              ::testing::ContainsRegex("Max core file size +0 +0 +bytes"));
  if (!unprivileged) {
    std::cout << "note: the build tree is not reachable by uid 65534, so the daemon runs as "
                 "root here and its not-dumpable flag cannot be observed from outside; only "
                 "RLIMIT_CORE is checked\n";
    return;
  }
  uid_t real_uid = 0;
  std::istringstream status(ReadFileBytes(proc + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Uid:", 0) == 0) real_uid = static_cast<uid_t>(std::stoul(line.substr(4)));
  }
  ASSERT_NE(real_uid, 0u) << "the daemon must run as another user for this to be observable";
  struct stat st {};
  ASSERT_EQ(::stat((proc + "/environ").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << proc << "/environ is owned by the daemon's uid " << real_uid
                           << ": the process is dumpable";
  // The control: a dumpable process of the same uid shows its own uid.
  std::vector<std::string> argv = {"/bin/sleep", "30"};
  if (::getuid() == 0) {
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(real_uid),
                               "--regid=" + std::to_string(real_uid), "--clear-groups", "--"});
  }
  BackgroundProcess control(argv);
  struct stat control_st {};
  ASSERT_TRUE(WaitUntil(
      [&] {
        // Wait for the exec (setpriv's own process is dumpable too, but be exact).
        return ReadFileBytes("/proc/" + std::to_string(control.pid()) + "/comm") == "sleep\n";
      },
      seconds(5)));
  ASSERT_EQ(::stat(("/proc/" + std::to_string(control.pid()) + "/environ").c_str(), &control_st),
            0);
  EXPECT_EQ(control_st.st_uid, real_uid) << "control: a dumpable process shows its own uid";
}

TEST(SecretHygieneTest, NoPasswordOrPfxBytesAnywhereAfterADemoRun) {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);  // The daemon may run as uid 65534.
  const std::string password = RandomPassword();
  SandboxProcess sandbox(dir.path().string());
  ASSERT_TRUE(sandbox.started());
  const ServerCert cert = MakeServerCert(dir.path().string());
  const fs::path inbox = dir.path() / "inbox";
  const fs::path enroll_dir = dir.path() / "enroll";
  const fs::path cli_dir = dir.path() / "cli";
  for (const fs::path& p : {inbox, enroll_dir, cli_dir}) fs::create_directories(p);

  // Users and their PFX files, all under one fresh password.
  std::vector<std::string> enroll_upns,
      rollout_upns = {"hyg-r0@contoso.com", "hyg-r1@contoso.com", "hyg-r2@contoso.com",
                      "hyg-rbad@contoso.com"};
  for (int i = 0; i < 6; ++i) enroll_upns.push_back("hyg-e" + std::to_string(i) + "@contoso.com");
  const std::vector<std::string> cli_upns = {"hyg-c0@contoso.com", "hyg-c1@contoso.com"};
  const std::vector<std::string> enroll_pfx = MakeUserPfxFiles(enroll_dir.string(), enroll_upns);
  const std::vector<std::string> rollout_pfx = MakeUserPfxFiles(inbox.string(), rollout_upns);
  const std::vector<std::string> cli_pfx = MakeUserPfxFiles(cli_dir.string(), cli_upns);
  ASSERT_EQ(enroll_pfx.size() + rollout_pfx.size() + cli_pfx.size(), 12u);
  std::vector<std::string> all_pfx = enroll_pfx;
  all_pfx.insert(all_pfx.end(), rollout_pfx.begin(), rollout_pfx.end());
  all_pfx.insert(all_pfx.end(), cli_pfx.begin(), cli_pfx.end());
  for (const std::string& f : all_pfx) ASSERT_TRUE(Reencrypt(f, password)) << f;
  std::ofstream(inbox / "password.txt") << password;
  std::ofstream(inbox / "wrong.txt") << "Not-The-Passw0rd";
  std::ofstream(cli_dir / "password.txt") << password;
  {
    std::ofstream m(inbox / "rollout.csv");
    m << "userPrincipalName,pfxFile,passwordFile\n";
    for (size_t i = 0; i < rollout_upns.size(); ++i) {
      m << rollout_upns[i] << ",user" << i << ".pfx,"
        << (i + 1 == rollout_upns.size() ? "wrong.txt" : "password.txt") << "\n";
    }
    std::ofstream c(cli_dir / "manifest.csv");
    c << "userPrincipalName,pfxFile,passwordFile\n";
    for (size_t i = 0; i < cli_upns.size(); ++i) {
      c << cli_upns[i] << ",user" << i << ".pfx,password.txt\n";
    }
  }
  ConfigOptions options;
  options.extra = SecurityServiceYaml(cert, dir.File("state.db"), inbox.string());
  const std::string config = WriteConfig(dir, sandbox.url(), options);
  const std::string log = dir.File("daemon.log");
  const bool unprivileged = CanRunUnprivileged();
  DaemonProcess daemon(config, log, unprivileged);
  ASSERT_TRUE(daemon.started()) << ReadFileBytes(log);
  ExpectNoCoreDumps(daemon.pid(), unprivileged);
  Https https(daemon.port(), cert.cert_file);

  // Enrollments, one dry run first, and requests that fail in every way a client can make them.
  auto body = [&](size_t i, const std::string& pw, bool dry_run = false) {
    nlohmann::json b = {{"userPrincipalName", enroll_upns[i]},
                        {"pfx", Base64Encode(ReadFileBytes(enroll_pfx[i]))},
                        {"password", pw}};
    if (dry_run) b["dryRun"] = true;
    return b.dump();
  };
  EXPECT_EQ(https.Call("POST", "/v1/enrollments", kEnrollKey, body(5, password, true)).status, 200);
  std::vector<std::string> sent_bodies;
  std::vector<std::string> ids;
  for (size_t i = 0; i < enroll_upns.size(); ++i) {
    sent_bodies.push_back(body(i, password));
    HttpReply r = https.Call("POST", "/v1/enrollments", kEnrollKey, sent_bodies.back(),
                             {{"Idempotency-Key", "hyg-" + std::to_string(i)}});
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.Json()["id"]);
  }
  HttpReply wrong = https.Call("POST", "/v1/enrollments", kEnrollKey, body(0, "Not-The-Passw0rd"));
  EXPECT_EQ(wrong.status, 422) << wrong.body;
  EXPECT_THAT(wrong.body, ::testing::HasSubstr("bad-password"));
  const std::string pfx0 = Base64Encode(ReadFileBytes(enroll_pfx[0]));
  const std::vector<std::pair<std::string, int>> failing = {
      {R"({"password":")" + password + R"(", "pfx": ")" + pfx0 + R"(", broken)", 400},
      {nlohmann::json({{"userPrincipalName", enroll_upns[0]},
                       {"pfx", pfx0},
                       {"password", password},
                       {"comment", password}})
           .dump(),
       400},
      {nlohmann::json({{"userPrincipalName", enroll_upns[0]},
                       {"pfx", pfx0},
                       {"password", password},
                       {"intendedPurpose", password}})
           .dump(),
       400},
      {nlohmann::json({{"userPrincipalName", password}, {"pfx", pfx0}, {"password", password}})
           .dump(),
       400},
      {nlohmann::json(
           {{"userPrincipalName", enroll_upns[0]}, {"pfx", password}, {"password", password}})
           .dump(),
       400},
      {nlohmann::json(
           {{"userPrincipalName", enroll_upns[1]}, {"pfx", pfx0}, {"password", password}})
           .dump(),
       422},  // The PFX is not this user's.
  };
  for (const auto& [b, status] : failing) {
    EXPECT_EQ(https.Call("POST", "/v1/enrollments", kEnrollKey, b).status, status) << status;
  }
  EXPECT_EQ(https
                .Call("POST", "/v1/enrollments", kEnrollKey, body(1, password),
                      {{"Idempotency-Key", "hyg-0"}})
                .status,
            422);
  EXPECT_EQ(https.Call("POST", "/v1/enrollments", kReadKey, body(1, password)).status, 403);
  EXPECT_EQ(https.Call("POST", "/v1/enrollments", "", body(1, password)).status, 401);

  // A rollout (one row with the wrong password file), its status and plan.
  HttpReply rollout = https.Call("POST", "/v1/rollouts", kAdminKey,
                                 R"({"name":"hygiene","manifest":"rollout.csv"})");
  ASSERT_EQ(rollout.status, 201) << rollout.body;
  const std::string rollout_id = rollout.Json()["id"];
  EXPECT_EQ(https.Call("GET", "/v1/rollouts/" + rollout_id + "/plan", kAdminKey).status, 200);
  EXPECT_EQ(https
                .Call("GET", "/v1/rollouts/" + rollout_id + "/plan", kAdminKey, "",
                      {{"Accept", "text/plain"}})
                .status,
            200);

  auto succeeded = [&] {
    for (const std::string& id : ids) {
      if (https.Call("GET", "/v1/enrollments/" + id, kReadKey).Json().value("status", "") !=
          "succeeded") {
        return false;
      }
    }
    nlohmann::json r = https.Call("GET", "/v1/rollouts/" + rollout_id, kReadKey).Json();
    // The row with the wrong password file was refused at intake: invalid, not failed.
    return r["counts"].value("succeeded", 0) == 3 && r["counts"].value("invalid", 0) == 1 &&
           r["counts"].value("failed", -1) == 0;
  };
  ASSERT_TRUE(WaitUntil(succeeded, seconds(90))) << ReadFileBytes(log).substr(0, 20000);
  EXPECT_EQ(https.Call("GET", "/metrics", kReadKey).status, 200);
  EXPECT_EQ(https.Call("GET", "/readyz", kReadKey).status, 200);
  // The store files while the daemon still runs, every item finished: read once the store has
  // truncated its write-ahead log (at most a second after the last release, see
  // docs/store-schema.md), and checked below.
  std::map<std::string, std::string> live;
  const std::vector<Needle> pfx_needles = PfxNeedles(all_pfx);
  auto read_live = [&] {
    bool clean = true;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::string& text = live["live store file state.db" + std::string(suffix)];
      text = ReadFileBytes(dir.File("state.db") + suffix);
      clean = clean && Leaks(text, pfx_needles).empty();
    }
    return clean;
  };
  EXPECT_TRUE(WaitUntil(read_live, seconds(10))) << "released PFX bytes stayed in the live store";
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);

  // The CLI: plan to a file, apply the plan.
  const std::string plan_file = dir.File("plan.json");
  const std::string manifest = (cli_dir / "manifest.csv").string();
  CommandResult plan = Certdeploy({"--log-level", "debug", "plan", "--config", config, "--manifest",
                                   manifest, "--out", plan_file});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  CommandResult apply =
      Certdeploy({"--log-level", "debug", "apply", "--config", config, "--plan", plan_file});
  EXPECT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  ASSERT_TRUE(fs::exists(plan_file));

  const std::vector<Needle> password_needles = PasswordNeedles(password);
  std::vector<Needle> needles = PfxNeedles(all_pfx);
  needles.insert(needles.begin(), password_needles.begin(), password_needles.end());
  // The needles are right: they are found where the secrets legitimately are.
  for (const std::string& b : sent_bodies) EXPECT_FALSE(Leaks(b, needles).empty());
  auto count = [](const std::vector<std::string>& found, const std::string& prefix) {
    return std::count_if(found.begin(), found.end(),
                         [&](const std::string& n) { return n.rfind(prefix, 0) == 0; });
  };
  const std::vector<std::string> in_file = Leaks(ReadFileBytes(enroll_pfx[2]), needles);
  EXPECT_EQ(count(in_file, "enroll/user2.pfx raw"), 4) << "the whole file and 3 windows";
  const std::vector<std::string> in_body = Leaks(sent_bodies[2], needles);
  EXPECT_EQ(count(in_body, "enroll/user2.pfx base64@"), 3);
  EXPECT_THAT(in_body, ::testing::IsSupersetOf(
                           std::vector<std::string>{"enroll/user2.pfx base64", "password"}));

  // While the daemon still runs, every item finished: the PFX bytes were released, and the
  // store truncates its write-ahead log after each release, so no old page image keeps them.
  for (const auto& [name, text] : live) {
    EXPECT_THAT(Leaks(text, needles), ::testing::IsEmpty()) << "secret in " << name << " (live)";
  }
  std::map<std::string, std::string> haystacks({
      {"daemon log", ReadFileBytes(log)},
      {"plan stdout", plan.out},
      {"plan stderr", plan.err},
      {"apply stdout", apply.out},
      {"apply stderr", apply.err},
  });
  EXPECT_THAT(haystacks["daemon log"], ::testing::HasSubstr("POST /v1/enrollments -> 202"));
  const std::vector<std::string> responses = https.bodies();
  for (size_t i = 0; i < responses.size(); ++i) {
    haystacks["HTTP response " + std::to_string(i)] = responses[i];
  }
  // Every file the run left behind, other than its inputs (PFX, password files, manifests).
  std::set<std::string> inputs(all_pfx.begin(), all_pfx.end());
  for (const fs::path& p : {inbox / "password.txt", inbox / "wrong.txt", cli_dir / "password.txt",
                            inbox / "rollout.csv", cli_dir / "manifest.csv"}) {
    inputs.insert(p.string());
  }
  int scanned = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir.path())) {
    if (!e.is_regular_file() || inputs.count(e.path().string())) continue;
    haystacks["file " + e.path().string()] = ReadFileBytes(e.path().string());
    ++scanned;
  }
  EXPECT_TRUE(haystacks.count("file " + dir.File("state.db")));
  EXPECT_TRUE(haystacks.count("file " + plan_file));
  EXPECT_TRUE(haystacks.count("file " + dir.File("sandbox.log")));
  // Audit rows, through the store.
  {
    auto store = store::OpenJobStore("sqlite:" + dir.File("state.db"), RealClock());
    ASSERT_TRUE(store.ok()) << store.status();
    Result<std::vector<store::AuditRecord>> audit = (*store)->ListAudit(100000);
    ASSERT_TRUE(audit.ok());
    EXPECT_GE(audit->size(), 10u);
    std::string rows;
    for (const store::AuditRecord& a : *audit) {
      rows += a.api_key_name + "|" + a.action + "|" + a.user_principal_name + "|" + a.thumbprint +
              "|" + a.outcome + "|" + a.request_ids + "|" + a.detail + "\n";
    }
    haystacks["audit rows"] = rows;
  }
  for (const auto& [name, text] : haystacks) {
    EXPECT_THAT(Leaks(text, needles), ::testing::IsEmpty()) << "secret material in " << name;
  }
  std::cout << "scanned " << haystacks.size() << " haystacks (" << scanned << " files, "
            << responses.size() << " HTTP responses) for " << needles.size() << " needles\n";
}

}  // namespace
}  // namespace certdeploy::testing
