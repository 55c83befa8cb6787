#include "pkcs/chain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "pkcs/pkcs12.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::pkcs {
namespace {

using ::certdeploy::testing::ExpectedSha1;
using ::certdeploy::testing::FixturePassword;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::ReadPkiBytes;
using ::certdeploy::testing::ReadPkiText;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kCaSubject[] = "CN=Test Public Email Protection CA R36,O=Test CA Ltd,C=GB";
constexpr char kRootBSubject[] = "CN=Test Public Email Protection Root R46,O=Test CA Ltd,C=GB";
constexpr char kRootASubject[] =
    "CN=Test USERTrust RSA Certification Authority,O=Test Trust Network,C=US";

Certificate Load(std::string_view name) {
  Result<std::vector<Certificate>> certs =
      ParseCertificatesPem(ReadPkiText(std::string(name) + ".pem"));
  EXPECT_THAT(certs, IsOk()) << name;
  return certs.ok() && !certs->empty() ? (*certs)[0] : Certificate{};
}

std::vector<Certificate> LoadBundle(std::string_view file) {
  Result<std::vector<Certificate>> certs = ParseCertificatesPem(ReadPkiText(file));
  EXPECT_THAT(certs, IsOk()) << file;
  return certs.ok() ? *certs : std::vector<Certificate>{};
}

// "sha1:role" per element, which makes path assertions readable.
std::vector<std::string> Path(const Chain& chain) {
  std::vector<std::string> out;
  for (const ChainElement& e : chain.elements) {
    out.push_back(e.cert.sha1 + ":" + std::string(ChainRoleName(e.role)));
  }
  return out;
}

std::string Step(std::string_view name, std::string_view role) {
  return ExpectedSha1(name) + ":" + std::string(role);
}

std::vector<std::string> CrossSignedPath() {
  return {Step("ca", "intermediate"), Step("root-b-cross", "intermediate"), Step("root-a", "root")};
}

TEST(ChainTest, BuildsTheCrossSignedChainFromThePfx) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("alice.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  Chain chain = BuildChain(pfx->leaf, pfx->others);
  EXPECT_TRUE(chain.complete);
  EXPECT_EQ(chain.missing_issuer, "");
  EXPECT_THAT(chain.bad_signatures, IsEmpty());
  EXPECT_EQ(Path(chain), CrossSignedPath());
  ASSERT_EQ(chain.elements.size(), 3u);
  EXPECT_EQ(chain.elements[0].cert.subject, kCaSubject);
  EXPECT_EQ(chain.elements[1].cert.subject, kRootBSubject);
  EXPECT_EQ(chain.elements[1].cert.issuer, kRootASubject);
  EXPECT_EQ(chain.elements[2].cert.subject, kRootASubject);
  EXPECT_FALSE(chain.elements[0].self_signed);
  EXPECT_FALSE(chain.elements[1].self_signed);
  EXPECT_TRUE(chain.elements[2].self_signed);
  EXPECT_EQ(chain.elements[0].cert.not_after, Load("ca").not_after);
}

TEST(ChainTest, ShuffledWithDuplicatesGivesTheCanonicalChain) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("shuffled.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  EXPECT_EQ(pfx->others.size(), 5u);
  Chain chain = BuildChain(pfx->leaf, pfx->others);
  EXPECT_TRUE(chain.complete);
  EXPECT_EQ(Path(chain), CrossSignedPath());
}

TEST(ChainTest, OrderOfCandidatesDoesNotMatter) {
  Certificate alice = Load("alice");
  std::vector<Certificate> pool = {Load("ca"), Load("root-a"), Load("root-b-cross"), Load("alice")};
  std::sort(pool.begin(), pool.end(),
            [](const Certificate& a, const Certificate& b) { return a.sha1 < b.sha1; });
  do {
    EXPECT_EQ(Path(BuildChain(alice, pool)), CrossSignedPath());
  } while (std::next_permutation(
      pool.begin(), pool.end(),
      [](const Certificate& a, const Certificate& b) { return a.sha1 < b.sha1; }));
}

// trust-bundle.pem holds the self-signed R46 as well. Two complete paths exist then:
//   alice -> ca -> root-b (self-signed)
//   alice -> ca -> root-b-cross -> root-a
// Both end at a present self-signed root; the longer one wins, so the cross-signed R46 stays in
// the chain and devices that only trust USERTrust (root A) still build a path.
TEST(ChainTest, PrefersTheLongerCompletePathWhenBothRootsArePresent) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("alice.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  std::vector<Certificate> pool = pfx->others;
  for (Certificate& c : LoadBundle("trust-bundle.pem")) pool.push_back(std::move(c));
  Chain chain = BuildChain(pfx->leaf, pool);
  EXPECT_TRUE(chain.complete);
  EXPECT_EQ(Path(chain), CrossSignedPath());
}

TEST(ChainTest, TrustBundleAloneEndsAtTheSelfSignedR46) {
  Chain chain = BuildChain(Load("alice"), LoadBundle("trust-bundle.pem"));
  EXPECT_TRUE(chain.complete);
  EXPECT_EQ(Path(chain),
            (std::vector<std::string>{Step("ca", "intermediate"), Step("root-b", "root")}));
  EXPECT_TRUE(chain.elements[1].self_signed);
}

TEST(ChainTest, PrefersCompleteOverLonger) {
  // Without root A the cross-signed R46 leads nowhere; the self-signed R46 completes the path.
  Chain chain = BuildChain(Load("alice"), {Load("root-b-cross"), Load("ca"), Load("root-b")});
  EXPECT_TRUE(chain.complete);
  EXPECT_EQ(Path(chain),
            (std::vector<std::string>{Step("ca", "intermediate"), Step("root-b", "root")}));
}

TEST(ChainTest, LeafOnlyIsIncompleteAndNamesTheIssuingCa) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("leaf-only.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  Chain chain = BuildChain(pfx->leaf, pfx->others);
  EXPECT_FALSE(chain.complete);
  EXPECT_THAT(chain.elements, IsEmpty());
  EXPECT_EQ(chain.missing_issuer, kCaSubject);
}

TEST(ChainTest, IncompleteChainKeepsWhatWasFoundAsIntermediates) {
  Chain chain = BuildChain(Load("alice"), {Load("ca")});
  EXPECT_FALSE(chain.complete);
  EXPECT_EQ(Path(chain), (std::vector<std::string>{Step("ca", "intermediate")}));
  EXPECT_EQ(chain.missing_issuer, kRootBSubject);

  chain = BuildChain(Load("alice"), {Load("root-b-cross"), Load("ca")});
  EXPECT_FALSE(chain.complete);
  EXPECT_EQ(Path(chain), (std::vector<std::string>{Step("ca", "intermediate"),
                                                   Step("root-b-cross", "intermediate")}));
  EXPECT_EQ(chain.missing_issuer, kRootASubject);
}

TEST(ChainTest, IgnoresUnrelatedCertificates) {
  Chain chain = BuildChain(Load("alice"), {Load("bob"), Load("sha1-root"), Load("ca"),
                                           Load("root-b-cross"), Load("root-a")});
  EXPECT_EQ(Path(chain), CrossSignedPath());
}

TEST(ChainTest, ReportsAnIssuerWhoseSignatureDoesNotVerify) {
  // impostor-ca has the issuing CA's name but not its key (and no key identifier to tell).
  Chain chain = BuildChain(Load("alice"), {Load("impostor-ca")});
  EXPECT_EQ(Path(chain), (std::vector<std::string>{Step("impostor-ca", "root")}));
  EXPECT_THAT(chain.bad_signatures, ElementsAre(Load("alice").subject));
}

TEST(ChainTest, PrefersAPathWhoseSignaturesVerify) {
  Chain chain = BuildChain(Load("alice"),
                           {Load("impostor-ca"), Load("root-a"), Load("root-b-cross"), Load("ca")});
  EXPECT_EQ(Path(chain), CrossSignedPath());
  EXPECT_THAT(chain.bad_signatures, IsEmpty());
}

TEST(ChainTest, StopsOnCrossSigningLoops) {
  // cycle-a and cycle-b issued each other; there is no root.
  Certificate a = Load("cycle-a");
  Certificate b = Load("cycle-b");
  Chain chain = BuildChain(a, {a, b, b, a});
  EXPECT_FALSE(chain.complete);
  EXPECT_EQ(Path(chain), (std::vector<std::string>{Step("cycle-b", "intermediate")}));
  EXPECT_EQ(chain.missing_issuer, a.subject);
  EXPECT_THAT(chain.bad_signatures, IsEmpty());
}

TEST(ChainTest, SelfSignedLeafIsItsOwnCompleteChain) {
  Chain chain = BuildChain(Load("root-a"), {Load("root-a"), Load("ca")});
  EXPECT_TRUE(chain.complete);
  EXPECT_THAT(chain.elements, IsEmpty());
}

TEST(ChainTest, RoleNames) {
  EXPECT_EQ(ChainRoleName(ChainRole::kRoot), "root");
  EXPECT_EQ(ChainRoleName(ChainRole::kIntermediate), "intermediate");
}

}  // namespace
}  // namespace certdeploy::pkcs
