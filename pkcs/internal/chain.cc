// pkcs/internal/chain.cc: path building over a small pool of CA certificates.
//
// A depth-first search enumerates every issuer path from the leaf and keeps the best one (see
// PathIsBetter). Pools are tiny (a PFX plus a bundle), but cross-signing can make cycles (A
// cross-signs B and B cross-signs A), so a path never visits the same subject+key twice and the
// search is bounded in depth and in steps.

#include "pkcs/chain.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "pkcs/internal/openssl_util.h"

namespace certdeploy::pkcs {
namespace {

using internal::X509Ptr;

constexpr size_t kMaxDepth = 12;    // Real S/MIME chains have 2-4 CA certificates.
constexpr size_t kMaxSteps = 4096;  // Total search nodes; bounds pathological pools.
constexpr size_t kLeaf = static_cast<size_t>(-1);

struct Node {
  const Certificate* cert = nullptr;
  X509Ptr x509;
  bool self_signed = false;
  std::string identity;  // Subject + key: a cross-signed CA and its root share it.
};

// One step of a path: pool index and whether the previous certificate's signature verified
// under this node's key.
struct Step {
  size_t index;
  bool signature_ok;
};

struct Candidate {
  std::vector<Step> steps;
  bool complete = false;
  size_t bad_signatures = 0;
  SystemTime earliest_expiry = SystemTime::max();
};

bool IsSelfSigned(X509* x) {
  bool self = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
              X509_get0_pubkey(x) != nullptr && X509_verify(x, X509_get0_pubkey(x)) == 1;
  ERR_clear_error();
  return self;
}

// The ranking from chain.h: fewer bad signatures first (a path through a certificate that does
// not verify is never preferred over a sound one), then complete, then longest, then the one
// whose earliest expiry is latest. Ties keep the first path found.
bool PathIsBetter(const Candidate& a, const Candidate& b) {
  if (a.bad_signatures != b.bad_signatures) return a.bad_signatures < b.bad_signatures;
  if (a.complete != b.complete) return a.complete;
  if (a.steps.size() != b.steps.size()) return a.steps.size() > b.steps.size();
  return a.earliest_expiry > b.earliest_expiry;
}

class ChainBuilder {
 public:
  ChainBuilder(const Certificate& leaf, const std::vector<Certificate>& candidates)
      : leaf_{&leaf, internal::X509Of(leaf), false, Identity(leaf)} {
    std::set<std::string> seen = {leaf.sha1};
    for (const Certificate& c : candidates) {
      if (!seen.insert(c.sha1).second) continue;  // Duplicate, or the leaf itself.
      X509Ptr x = internal::X509Of(c);
      if (x == nullptr) continue;
      bool self_signed = IsSelfSigned(x.get());
      pool_.push_back(Node{&c, std::move(x), self_signed, Identity(c)});
    }
    if (leaf_.x509 != nullptr) leaf_.self_signed = IsSelfSigned(leaf_.x509.get());
  }

  Chain Build() {
    Chain chain;
    if (leaf_.x509 == nullptr) {
      chain.missing_issuer = leaf_.cert->issuer;
      return chain;
    }
    std::vector<Step> path;
    Extend(path);
    if (!best_.has_value()) return chain;  // Unreachable: Extend always records a path.
    chain.complete = best_->complete;
    const Node* previous = &leaf_;
    for (size_t i = 0; i < best_->steps.size(); ++i) {
      const Node& node = pool_[best_->steps[i].index];
      if (!best_->steps[i].signature_ok) chain.bad_signatures.push_back(previous->cert->subject);
      ChainElement element;
      element.cert = *node.cert;
      element.self_signed = node.self_signed;
      bool last = i + 1 == best_->steps.size();
      element.role = last && best_->complete ? ChainRole::kRoot : ChainRole::kIntermediate;
      chain.elements.push_back(std::move(element));
      previous = &node;
    }
    if (!chain.complete) chain.missing_issuer = previous->cert->issuer;
    return chain;
  }

 private:
  static std::string Identity(const Certificate& c) {
    return c.subject + '\n' + c.public_key_sha256;
  }

  const Node& NodeAt(size_t index) const { return index == kLeaf ? leaf_ : pool_[index]; }

  // Pool certificates whose subject is `tip`'s issuer (and whose key id matches its authority
  // key id when both are present), excluding those already on the path.
  std::vector<size_t> IssuersOf(const Node& tip, const std::vector<Step>& path) const {
    std::vector<size_t> issuers;
    for (size_t i = 0; i < pool_.size(); ++i) {
      const Node& cand = pool_[i];
      if (X509_NAME_cmp(X509_get_subject_name(cand.x509.get()),
                        X509_get_issuer_name(tip.x509.get())) != 0) {
        continue;
      }
      const std::string& aki = tip.cert->authority_key_id;
      const std::string& ski = cand.cert->subject_key_id;
      if (!aki.empty() && !ski.empty() && aki != ski) continue;
      bool on_path = cand.identity == leaf_.identity ||
                     std::any_of(path.begin(), path.end(), [&](const Step& s) {
                       return pool_[s.index].identity == cand.identity;
                     });
      if (!on_path) issuers.push_back(i);
    }
    return issuers;
  }

  bool Verifies(size_t subject, size_t issuer) {
    auto key = std::make_pair(subject, issuer);
    if (auto it = verified_.find(key); it != verified_.end()) return it->second;
    EVP_PKEY* pub = X509_get0_pubkey(pool_[issuer].x509.get());
    bool ok = pub != nullptr && X509_verify(NodeAt(subject).x509.get(), pub) == 1;
    ERR_clear_error();
    verified_[key] = ok;
    return ok;
  }

  void Record(const std::vector<Step>& path, bool complete) {
    Candidate cand;
    cand.steps = path;
    cand.complete = complete;
    for (const Step& s : path) {
      if (!s.signature_ok) ++cand.bad_signatures;
      cand.earliest_expiry = std::min(cand.earliest_expiry, pool_[s.index].cert->not_after);
    }
    if (!best_.has_value() || PathIsBetter(cand, *best_)) best_ = std::move(cand);
  }

  void Extend(std::vector<Step>& path) {
    size_t tip_index = path.empty() ? kLeaf : path.back().index;
    const Node& tip = NodeAt(tip_index);
    if (tip.self_signed) {
      Record(path, /*complete=*/true);
      return;
    }
    std::vector<size_t> issuers;
    if (path.size() < kMaxDepth && ++steps_ <= kMaxSteps) issuers = IssuersOf(tip, path);
    if (issuers.empty()) {
      Record(path, /*complete=*/false);
      return;
    }
    for (size_t issuer : issuers) {
      path.push_back(Step{issuer, Verifies(tip_index, issuer)});
      Extend(path);
      path.pop_back();
    }
  }

  Node leaf_;
  std::vector<Node> pool_;
  std::map<std::pair<size_t, size_t>, bool> verified_;
  std::optional<Candidate> best_;
  size_t steps_ = 0;
};

}  // namespace

std::string_view ChainRoleName(ChainRole role) {
  return role == ChainRole::kRoot ? "root" : "intermediate";
}

Chain BuildChain(const Certificate& leaf, const std::vector<Certificate>& candidates) {
  return ChainBuilder(leaf, candidates).Build();
}

}  // namespace certdeploy::pkcs
