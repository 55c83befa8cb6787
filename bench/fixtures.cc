// bench/fixtures.cc: synthetic users for the benchmarks (scripts/bench.sh), never for production.
//
//   bench_fixtures --pki build/test-pki --out DIR --users 2000 [--per-pfx 1] [--domain D]
//                  [--prefix user] [--journal FILE] [--enroll-bodies FILE]
//
// Writes, under DIR:
//   pfx/NNNNN.pfx   one PFX per --per-pfx users: a certificate issued by the test PKI's CA
//                   carrying every one of those users' addresses as rfc822Name SANs (a single
//                   user per PFX by default, as in real life; several only to make 100 000 users
//                   cheap for the plan-at-scale benchmark)
//   password.txt    the PFX password
//   manifest.csv    userPrincipalName,pfxFile,passwordFile
// and optionally:
//   --journal FILE        a `certdeploy sandbox --state` journal in which every user already has
//                         their record (putPfx entries), for "plan against existing records"
//   --enroll-bodies FILE  one POST /v1/enrollments JSON body per line (for wrk)

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/encoding.h"
#include "base/secret.h"
#include "pkcs/pkcs12.h"
#include "sandbox/internal/directory.h"
#include "sandbox/internal/wire.h"
#include "tests/support/user_pfx.h"

namespace {

using certdeploy::Result;
namespace fs = std::filesystem;

struct Args {
  std::string pki;
  std::string out;
  int users = 2000;
  int per_pfx = 1;
  std::string domain = "bench.contoso.com";
  std::string prefix = "user";
  std::string journal;
  std::string enroll_bodies;
};

std::string Upn(const Args& a, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06d", i);
  return a.prefix + buf + "@" + a.domain;
}

// A journal line as the sandbox writes it for a userPfxCertificate it accepted.
nlohmann::json PutPfx(const std::string& upn, const certdeploy::pkcs::Certificate& leaf,
                      int64_t now_ms) {
  using certdeploy::sandbox::internal::ToUnixMillis;
  const std::string user_id = certdeploy::sandbox::internal::UserIdForUpn(upn);
  std::string compact;
  for (char c : user_id) {
    if (c != '-') compact += c;
  }
  return {{"v", 1},
          {"at", "2026-01-01T00:00:00Z"},
          {"op", "putPfx"},
          {"record",
           {{"id", compact + "-" + leaf.sha1},
            {"userId", user_id},
            {"userPrincipalName", upn},
            {"thumbprint", leaf.sha1},
            {"intendedPurpose", "smimeEncryption"},
            {"providerName", "Microsoft Software Key Storage Provider"},
            {"keyName", "PFXEncryptionKey"},
            {"paddingScheme", "oaepSha512"},
            {"start", ToUnixMillis(leaf.not_before)},
            {"expiration", ToUnixMillis(leaf.not_after)},
            {"created", now_ms},
            {"modified", now_ms},
            {"certSha1", leaf.sha1},
            {"certNotBefore", ToUnixMillis(leaf.not_before)},
            {"certNotAfter", ToUnixMillis(leaf.not_after)}}}};
}

int Run(const Args& a) {
  Result<certdeploy::testing::UserPfxFactory> factory =
      certdeploy::testing::UserPfxFactory::Load(a.pki);
  if (!factory.ok()) {
    std::cerr << "bench_fixtures: " << factory.status().ToString() << "\n";
    return 2;
  }
  fs::create_directories(fs::path(a.out) / "pfx");
  std::ofstream(fs::path(a.out) / "password.txt", std::ios::binary) << factory->password();
  std::ofstream manifest(fs::path(a.out) / "manifest.csv", std::ios::binary);
  manifest << "userPrincipalName,pfxFile,passwordFile\n";
  std::ofstream journal;
  if (!a.journal.empty()) journal.open(a.journal, std::ios::binary | std::ios::trunc);
  std::ofstream bodies;
  if (!a.enroll_bodies.empty()) bodies.open(a.enroll_bodies, std::ios::binary | std::ios::trunc);
  const certdeploy::SecretBytes password(factory->password());
  const int64_t now_ms = certdeploy::sandbox::internal::ToUnixMillis(certdeploy::RealClock().Now());

  for (int first = 0; first < a.users; first += a.per_pfx) {
    std::vector<std::string> upns;
    for (int i = first; i < a.users && i < first + a.per_pfx; ++i) upns.push_back(Upn(a, i));
    Result<std::string> der = factory->Make(upns, 0x2000000L + first);
    if (!der.ok()) {
      std::cerr << "bench_fixtures: " << der.status().ToString() << "\n";
      return 1;
    }
    char name[32];
    std::snprintf(name, sizeof(name), "%06d.pfx", first / a.per_pfx);
    std::ofstream(fs::path(a.out) / "pfx" / name, std::ios::binary) << *der;
    for (const std::string& upn : upns) {
      manifest << upn << ",pfx/" << name << ",password.txt\n";
    }
    if (journal.is_open()) {
      auto opened = certdeploy::pkcs::ParsePkcs12(
          {reinterpret_cast<const uint8_t*>(der->data()), der->size()}, password);
      if (!opened.ok()) {
        std::cerr << "bench_fixtures: " << opened.status().ToString() << "\n";
        return 1;
      }
      for (const std::string& upn : upns) journal << PutPfx(upn, opened->leaf, now_ms).dump() << "\n";
    }
    if (bodies.is_open()) {
      const std::string pfx64 = certdeploy::Base64Encode(*der);
      for (const std::string& upn : upns) {
        bodies << nlohmann::json{{"userPrincipalName", upn},
                                 {"pfx", pfx64},
                                 {"password", factory->password()}}
                      .dump()
               << "\n";
      }
    }
  }
  if (!manifest.flush() || (journal.is_open() && !journal.flush()) ||
      (bodies.is_open() && !bodies.flush())) {
    std::cerr << "bench_fixtures: write failed under " << a.out << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app("Synthetic users for the certdeploy benchmarks");
  app.add_option("--pki", a.pki, "Test PKI folder (scripts/make_test_pki.sh)")->required();
  app.add_option("--out", a.out, "Output folder")->required();
  app.add_option("--users", a.users, "Number of users")->check(CLI::Range(1, 10000000));
  app.add_option("--per-pfx", a.per_pfx, "Users sharing one PFX")->check(CLI::Range(1, 5000));
  app.add_option("--domain", a.domain, "UPN domain");
  app.add_option("--prefix", a.prefix, "UPN local-part prefix");
  app.add_option("--journal", a.journal, "Also write a sandbox --state journal with their records");
  app.add_option("--enroll-bodies", a.enroll_bodies, "Also write POST /v1/enrollments bodies");
  CLI11_PARSE(app, argc, argv);
  return Run(a);
}
