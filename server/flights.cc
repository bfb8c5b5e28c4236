#include "server/flights.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace tandem::server {
namespace {

// Virtual order: earliest finish first, then device id (the map's order
// breaks ties since it is scanned in id order). Wall order: arrival.
bool Before(const Flight& a, const Flight& b, bool virtual_order) {
  if (virtual_order) return a.finish_s < b.finish_s;
  return a.arrival < b.arrival;
}

}  // namespace

double StalenessWeight(int64_t staleness, double exponent) {
  return std::pow(1.0 + static_cast<double>(staleness), -exponent);
}

void Rebase(const Weights& global, const Weights& base, double weight,
            Weights* update) {
  const float w = static_cast<float>(weight);
  const float* g = global.data();
  const float* b = base.data();
  float* u = update->data();
  for (int64_t i = 0; i < update->size(); ++i) {
    u[i] = g[i] + w * (u[i] - b[i]);
  }
}

Flight& Flights::Start(const std::string& device, int64_t version,
                       std::shared_ptr<const Weights> base, double start_s) {
  Flight& f = flights_[device];
  f = Flight();
  f.device = device;
  f.version = version;
  f.base = std::move(base);
  f.start_s = start_s;
  f.not_before_s = start_s;
  f.serial = starts_++;
  return f;
}

Flight* Flights::Find(const std::string& device) {
  auto it = flights_.find(device);
  return it == flights_.end() ? nullptr : &it->second;
}

const Flight* Flights::Find(const std::string& device) const {
  auto it = flights_.find(device);
  return it == flights_.end() ? nullptr : &it->second;
}

bool Flights::Pull(const std::string& device) {
  Flight* f = Find(device);
  if (f == nullptr || f->state != Flight::State::kAssigned) return false;
  f->state = Flight::State::kTraining;
  return true;
}

bool Flights::Announce(const std::string& device, double seconds) {
  Flight* f = Find(device);
  if (f == nullptr || f->state != Flight::State::kTraining) return false;
  f->not_before_s = std::max(f->not_before_s, f->start_s + seconds);
  return true;
}

void Flights::Arrive(const std::string& device, ClientUpdate update,
                     DeviceRoundRecord record, double finish_s) {
  Flight* f = Find(device);
  if (f == nullptr || !f->busy()) return;
  f->state = Flight::State::kArrived;
  f->update = std::move(update);
  f->record = std::move(record);
  f->finish_s = finish_s;
  f->arrival = reports_++;
}

bool Flights::End(const std::string& device, const std::string& reason) {
  Flight* f = Find(device);
  if (f == nullptr || !f->busy()) return false;
  f->state = Flight::State::kEnded;
  f->reason = reason;
  f->finish_s = f->not_before_s;
  f->arrival = reports_++;
  f->base.reset();
  return true;
}

void Flights::Refuse(const std::string& device) {
  Flight* f = Find(device);
  if (f == nullptr || !f->busy()) return;
  End(device, "refused");
  f->refused = true;
}

std::map<std::string, Flight>::const_iterator Flights::Next() const {
  auto next = flights_.end();
  for (auto it = flights_.begin(); it != flights_.end(); ++it) {
    if (it->second.busy()) continue;
    if (next == flights_.end() ||
        Before(it->second, next->second, virtual_order_)) {
      next = it;
    }
  }
  if (next == flights_.end() || !virtual_order_) return next;
  // A device still training must not be able to finish first.
  const Flight& n = next->second;
  for (const auto& [id, f] : flights_) {
    if (!f.busy()) continue;
    if (f.not_before_s < n.finish_s ||
        (f.not_before_s == n.finish_s && id < n.device)) {
      return flights_.end();
    }
  }
  return next;
}

bool Flights::HasNext() const { return Next() != flights_.end(); }

std::optional<Flight> Flights::TakeNext() {
  auto next = Next();
  if (next == flights_.end()) return std::nullopt;
  Flight taken = std::move(flights_.at(next->first));
  flights_.erase(next);
  return taken;
}

std::vector<std::string> Flights::BusyDevices() const {
  std::vector<std::string> ids;
  for (const auto& [id, f] : flights_) {
    if (f.busy()) ids.push_back(id);
  }
  return ids;
}

}  // namespace tandem::server
