#include "service/internal/pfx_gate.h"

namespace certdeploy::service {

PfxGate::PfxGate(int slots, int max_waiting, int per_key)
    : slots_(slots), max_waiting_(max_waiting), per_key_(per_key) {}

Result<PfxGate::Ticket> PfxGate::Enter(std::string_view key, SteadyTime deadline) {
  MutexLock lock(mu_);
  auto mine = by_key_.find(key);
  if (mine != by_key_.end() && mine->second >= per_key_) {
    return ResourceExhaustedError("this API key already has " + std::to_string(mine->second) +
                                  " PFX requests in progress; retry when one has finished");
  }
  if (running_ >= slots_ && waiting_ >= max_waiting_) {
    return UnavailableError("the server is busy checking other PFX files; retry shortly");
  }
  if (mine == by_key_.end()) mine = by_key_.emplace(std::string(key), 0).first;
  ++mine->second;
  if (running_ >= slots_) {
    ++waiting_;
    while (running_ >= slots_) {
      if (!freed_.WaitUntil(mu_, deadline) && running_ >= slots_) {
        --waiting_;
        if (--mine->second == 0) by_key_.erase(mine);
        return UnavailableError(
            "the server is busy checking other PFX files; no slot freed up in time");
      }
    }
    --waiting_;
  }
  ++running_;
  return Ticket(this, std::string(key));
}

void PfxGate::Leave(const std::string& key) {
  {
    MutexLock lock(mu_);
    --running_;
    auto it = by_key_.find(key);
    if (it != by_key_.end() && --it->second == 0) by_key_.erase(it);
  }
  freed_.NotifyAll();
}

int PfxGate::running() const {
  MutexLock lock(mu_);
  return running_;
}

int PfxGate::waiting() const {
  MutexLock lock(mu_);
  return waiting_;
}

}  // namespace certdeploy::service
