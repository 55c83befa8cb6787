#include "tests/e2e/rollout_fixtures.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

namespace certdeploy::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Decodes a chunked HTTP/1.1 body.
std::string Unchunk(const std::string& body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using P12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;

void FreeStack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }

bool AddExt(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

X509Ptr IssueUserCert(const std::string& email, long serial, EVP_PKEY* key, X509* ca,
                      EVP_PKEY* ca_key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  NamePtr name(X509_NAME_new());
  const std::string cn = "User " + email.substr(0, email.find('@'));
  auto add = [&](const char* field, const std::string& v) {
    X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1, 0);
  };
  add("C", "US");
  add("O", "Contoso");
  add("CN", cn);
  add("emailAddress", email);
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 86400);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca, cert.get(), nullptr, nullptr, 0);
  bool ok = AddExt(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
            AddExt(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
            AddExt(cert.get(), &ctx, NID_ext_key_usage, "emailProtection,clientAuth") &&
            AddExt(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
            AddExt(cert.get(), &ctx, NID_authority_key_identifier, "keyid") &&
            AddExt(cert.get(), &ctx, NID_subject_alt_name, "email:" + email);
  if (!ok || X509_sign(cert.get(), ca_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("certdeploy_e2e_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& text) const {
  std::string p = File(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

SandboxProcess::SandboxProcess(const std::string& log_dir, std::vector<std::string> extra) {
  std::vector<std::string> argv = {
      CERTDEPLOY_BINARY,       "sandbox",     "--listen", "127.0.0.1:0",         "--connector-key",
      kPki + "/connector.key", "--client-id", kClientId,  "--client-secret-env", "SANDBOX_SECRET"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_ = std::make_unique<BackgroundProcess>(
      argv, std::map<std::string, std::string>{{"SANDBOX_SECRET", kClientSecret}},
      log_dir + "/sandbox.log");
  url_ = process_->ReadLine();
}

nlohmann::json SandboxProcess::Get(const std::string& path) const {
  // url_ is "http://127.0.0.1:PORT".
  const std::string hostport = url_.substr(url_.find("//") + 2);
  const int port = std::stoi(hostport.substr(hostport.find(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return nullptr;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + hostport +
                                "\r\nConnection: close\r\nAccept: application/json\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[65536];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  size_t split = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 200", 0) != 0 || split == std::string::npos) return nullptr;
  std::string headers = response.substr(0, split);
  std::string body = response.substr(split + 4);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (headers.find("transfer-encoding: chunked") != std::string::npos) body = Unchunk(body);
  return nlohmann::json::parse(body, nullptr, false);
}

std::string WriteConfig(const TempDir& dir, const std::string& url, const ConfigOptions& o) {
  std::string platforms;
  for (const std::string& p : o.platforms) platforms += (platforms.empty() ? "" : ", ") + p;
  std::ostringstream y;
  y << "tenant:\n"
    << "  id: contoso.onmicrosoft.com\n"
    << "  graphUrl: " << url << "\n"
    << "  authorityUrl: " << url << "\n"
    << "auth:\n"
    << "  clientId: " << kClientId << "\n"
    << "  clientSecretEnv: CERTDEPLOY_CLIENT_SECRET\n"
    << "connector:\n"
    << "  publicKeyFile: " << kPki << "/connector.pub\n"
    << "  paddingScheme: oaepSha512\n"
    << "profiles:\n"
    << "  platforms: [" << platforms << "]\n"
    << "  namePrefix: \"S/MIME\"\n"
    << "  assignTo: { groups: [" << kGroupId << "] }\n"
    << "limits:\n"
    << "  writesPer20s: " << o.writes_per_20s << "\n"
    << "  requestsPer20s: 5000\n"
    << "  concurrency: " << o.concurrency << "\n"
    << o.extra;
  return dir.Write("config.yaml", y.str());
}

CommandResult Certdeploy(const std::vector<std::string>& args, const std::string& secret) {
  std::vector<std::string> argv = {CERTDEPLOY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {{"CERTDEPLOY_CLIENT_SECRET", secret}});
}

std::vector<std::string> MakeUserPfxFiles(const std::string& dir,
                                          const std::vector<std::string>& upns) {
  auto load_key = [](const std::string& path) {
    std::string pem = ReadAll(path);
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    KeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    return key;
  };
  KeyPtr ca_key = load_key(kPki + "/ca.key");
  KeyPtr user_key = load_key(kPki + "/alice.key");  // Shared: only the certificates differ.
  std::string chain_pem = ReadAll(kPki + "/chain.pem");
  BIO* bio = BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size()));
  std::unique_ptr<STACK_OF(X509), decltype(&FreeStack)> chain(sk_X509_new_null(), FreeStack);
  while (X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) sk_X509_push(chain.get(), c);
  BIO_free(bio);
  if (!ca_key || !user_key || sk_X509_num(chain.get()) != 3) {
    ADD_FAILURE() << "test PKI incomplete in " << kPki;
    return {};
  }
  X509* ca = sk_X509_value(chain.get(), 0);  // chain.pem starts with the issuing CA.
  const std::string password = ReadAll(kPki + "/password.txt");
  std::vector<std::string> files;
  // Serials unique within a run and unlikely to repeat across runs.
  const long base = 0x1000000 + (static_cast<long>(std::random_device()()) & 0xffff) * 0x10000;
  for (size_t i = 0; i < upns.size(); ++i) {
    X509Ptr cert =
        IssueUserCert(upns[i], base + static_cast<long>(i), user_key.get(), ca, ca_key.get());
    if (!cert) {
      ADD_FAILURE() << "could not issue a certificate for " << upns[i];
      return {};
    }
    P12Ptr p12(PKCS12_create(password.c_str(), upns[i].c_str(), user_key.get(), cert.get(),
                             chain.get(), 0, 0, 0, 0, 0));
    std::string path = dir + "/user" + std::to_string(i) + ".pfx";
    FILE* f = std::fopen(path.c_str(), "wb");
    bool ok = p12 && f && i2d_PKCS12_fp(f, p12.get()) == 1;
    if (f) std::fclose(f);
    if (!ok) {
      ADD_FAILURE() << "could not write " << path;
      return {};
    }
    files.push_back(path);
  }
  return files;
}

uint64_t Counter(const nlohmann::json& stats, const std::string& name) {
  if (!stats.is_object() || !stats.contains(name) || !stats[name].is_number()) return 0;
  return stats[name].get<uint64_t>();
}

}  // namespace certdeploy::testing
