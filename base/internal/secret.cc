#include "base/secret.h"

#include <string.h>

namespace certdeploy {

void SecureWipe(void* data, size_t size) {
  if (data != nullptr && size != 0) explicit_bzero(data, size);
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  if (bytes_.size() != other.bytes_.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < bytes_.size(); ++i) diff |= bytes_[i] ^ other.bytes_[i];
  return diff == 0;
}

}  // namespace certdeploy
