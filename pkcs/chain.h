// pkcs/chain.h: building a user's CA chain, leaf -> root.
//
// Intune cannot import a bundle: each CA certificate of the chain becomes its own trusted
// certificate profile, so we must know exactly which CA certificates are on the path. The
// candidates are the certificates inside the PFX plus an optional PEM trust bundle, in any order
// and with duplicates. Cross-signed CAs (same subject and key, different issuer) give more than
// one possible path; we prefer a path that ends at a self-signed root that is present, and among
// those the longest (so a cross-signed intermediate root is kept, as Sectigo's R46 under
// USERTrust), then the one whose certificates expire last.

#pragma once

#include <string>
#include <vector>

#include "pkcs/certificate.h"

namespace certdeploy::pkcs {

enum class ChainRole { kIntermediate, kRoot };
std::string_view ChainRoleName(ChainRole role);  // "intermediate" | "root"

struct ChainElement {
  Certificate cert;
  ChainRole role = ChainRole::kIntermediate;
  bool self_signed = false;  // Issuer == subject and the signature verifies with its own key.
};

struct Chain {
  // CA certificates from the leaf's issuer up to the last certificate found. The leaf itself is
  // not included. Signatures verified along the path.
  std::vector<ChainElement> elements;
  // True if the path ends at a self-signed root.
  bool complete = false;
  // When incomplete: the issuer name of the last certificate whose issuer was not found.
  std::string missing_issuer;
  // Certificates on the path whose signature did not verify against their issuer (subject names).
  std::vector<std::string> bad_signatures;
};

// Builds the chain for `leaf` from `candidates`. Never fails: problems are reported in Chain.
// An issuer must match the subject's issuer name and, when both are present, its subject key
// identifier must equal the subject's authority key identifier. A path through a signature that
// does not verify is used only if no sound path exists. A self-signed leaf gives an empty,
// complete chain. Cross-signing loops are cut (a subject+key appears once per path) and the
// search is bounded. Thread-safe.
Chain BuildChain(const Certificate& leaf, const std::vector<Certificate>& candidates);

}  // namespace certdeploy::pkcs
