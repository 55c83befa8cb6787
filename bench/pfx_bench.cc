// bench/pfx_bench.cc: the PFX work certdeploy does per user, next to the OpenSSL floor.
//
// Per user, intake (`POST /v1/enrollments`, `plan`) opens the PFX, builds and checks its chain,
// and seals the password to the connector key. The floor is what any tool must do at least:
// d2i_PKCS12 + PKCS12_parse (MAC check, bag decryption) and one RSA-OAEP encryption, with the
// same padding. Single-threaded: items/s is per core.
//
//   bench/pfx_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// The test PKI (scripts/make_test_pki.sh) is read from CERTDEPLOY_BENCH_PKI, or from the build
// tree's test-pki folder by default: alice.pfx (OpenSSL 3 defaults: AES-256-CBC, PBKDF2) and
// alice-legacy.pfx (`-legacy`: RC2-40 and 3DES), password.txt, connector.pub.

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/clock.h"
#include "base/secret.h"
#include "pkcs/pkcs12.h"
#include "pkcs/seal.h"
#include "pkcs/validate.h"

namespace {

std::string PkiDir() {
  const char* dir = std::getenv("CERTDEPLOY_BENCH_PKI");
  return dir != nullptr ? dir : CERTDEPLOY_TEST_PKI_DIR;
}

std::string ReadAll(const std::string& name) {
  std::ifstream in(PkiDir() + "/" + name, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "pfx_bench: cannot read %s/%s (set CERTDEPLOY_BENCH_PKI)\n",
                 PkiDir().c_str(), name.c_str());
    std::exit(2);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Inputs {
  std::string modern = ReadAll("alice.pfx");
  std::string legacy = ReadAll("alice-legacy.pfx");
  std::string password = ReadAll("password.txt");
  std::string connector_pem = ReadAll("connector.pub");
};

const Inputs& In() {
  static const Inputs inputs;
  return inputs;
}

certdeploy::Result<certdeploy::pkcs::ConnectorPublicKey> ConnectorKey(benchmark::State& state) {
  auto key = certdeploy::pkcs::ConnectorPublicKey::Parse(
      {reinterpret_cast<const uint8_t*>(In().connector_pem.data()), In().connector_pem.size()});
  if (!key.ok()) state.SkipWithError("connector.pub does not load");
  return key;
}

const std::string& Pfx(const benchmark::State& state) {
  return state.range(0) == 0 ? In().modern : In().legacy;
}

// certdeploy's per-user work: validate (open, chain, checks) + seal.
void BM_Certdeploy(benchmark::State& state) {
  const std::string& pfx = Pfx(state);
  const certdeploy::SecretBytes password(In().password);
  auto key = ConnectorKey(state);
  if (!key.ok()) return;
  certdeploy::pkcs::ValidateOptions options;
  options.upn = "alice@contoso.com";
  options.now = certdeploy::RealClock().Now();
  for (auto _ : state) {
    certdeploy::pkcs::ValidationReport report = certdeploy::pkcs::ValidatePfx(
        {reinterpret_cast<const uint8_t*>(pfx.data()), pfx.size()}, password, options);
    if (!report.deployable()) {
      state.SkipWithError("the benchmark PFX is not deployable");
      return;
    }
    auto sealed = certdeploy::pkcs::SealPassword(password, *key,
                                                 certdeploy::pkcs::PaddingScheme::kOaepSha512);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "modern" : "legacy");
}

// The floor: bare OpenSSL, nothing certdeploy adds (no chain, no checks, no base64).
void BM_OpenSslFloor(benchmark::State& state) {
  static OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
  static OSSL_PROVIDER* deflt = OSSL_PROVIDER_load(nullptr, "default");
  benchmark::DoNotOptimize(legacy);
  benchmark::DoNotOptimize(deflt);
  const std::string& pfx = Pfx(state);
  const std::string& password = In().password;
  BIO* bio = BIO_new_mem_buf(In().connector_pem.data(), static_cast<int>(In().connector_pem.size()));
  EVP_PKEY* connector = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (connector == nullptr) {
    state.SkipWithError("connector.pub does not load");
    return;
  }
  unsigned char out[1024];
  for (auto _ : state) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(pfx.data());
    PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(pfx.size()));
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    if (p12 == nullptr || PKCS12_parse(p12, password.c_str(), &key, &cert, &ca) != 1) {
      state.SkipWithError("PKCS12_parse failed");
      break;
    }
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(connector, nullptr);
    size_t out_len = sizeof(out);
    if (EVP_PKEY_encrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha512()) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha512()) != 1 ||
        EVP_PKEY_encrypt(ctx, out, &out_len, reinterpret_cast<const unsigned char*>(password.data()),
                         password.size()) != 1) {
      state.SkipWithError("RSA-OAEP encryption failed");
    }
    benchmark::DoNotOptimize(out);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
  }
  EVP_PKEY_free(connector);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "modern" : "legacy");
}

// Parts of the work, to see where time goes.
void BM_ValidateOnly(benchmark::State& state) {
  const std::string& pfx = Pfx(state);
  const certdeploy::SecretBytes password(In().password);
  certdeploy::pkcs::ValidateOptions options;
  options.upn = "alice@contoso.com";
  options.now = certdeploy::RealClock().Now();
  for (auto _ : state) {
    auto report = certdeploy::pkcs::ValidatePfx(
        {reinterpret_cast<const uint8_t*>(pfx.data()), pfx.size()}, password, options);
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "modern" : "legacy");
}

void BM_ParseOnly(benchmark::State& state) {
  const std::string& pfx = Pfx(state);
  const certdeploy::SecretBytes password(In().password);
  for (auto _ : state) {
    auto opened = certdeploy::pkcs::ParsePkcs12(
        {reinterpret_cast<const uint8_t*>(pfx.data()), pfx.size()}, password);
    benchmark::DoNotOptimize(opened);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "modern" : "legacy");
}

void BM_SealOnly(benchmark::State& state) {
  const certdeploy::SecretBytes password(In().password);
  auto key = ConnectorKey(state);
  if (!key.ok()) return;
  for (auto _ : state) {
    auto sealed = certdeploy::pkcs::SealPassword(password, *key,
                                                 certdeploy::pkcs::PaddingScheme::kOaepSha512);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_OpenSslFloor)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Certdeploy)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ValidateOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SealOnly)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
