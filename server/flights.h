// Buffered asynchronous aggregation (FedBuff): the devices training, each
// from the model version it pulled, and what each sent back, until the
// Coordinator's loop takes the reports one by one.
//
// Order. On virtual time (the simulator) reports are taken earliest virtual
// finish first (ties: device id), and one only when no device still
// training could finish before it (by the least round time it announced:
// Announce), so the order, and with it the whole run, does not depend on
// which thread ran first. On wall time reports are taken as they arrived.
//
// Not thread-safe: the Coordinator guards it with its mutex.
#ifndef TANDEM_SERVER_FLIGHTS_H_
#define TANDEM_SERVER_FLIGHTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/weights.h"
#include "server/round_records.h"
#include "strategies/client_update.h"

namespace tandem::server {

struct Flight {
  // kAssigned: its task waits to be pulled; kTraining: pulled; kArrived:
  // its update is in; kEnded: it abandoned, left, timed out or was refused.
  enum class State { kAssigned, kTraining, kArrived, kEnded };
  State state = State::kAssigned;
  // Assigned or training: it may still report.
  bool busy() const {
    return state == State::kAssigned || state == State::kTraining;
  }
  std::string device;
  int64_t version = 0;                  // the round whose model it trains
  std::shared_ptr<const Weights> base;  // that model
  double start_s = 0;                   // on the run's clock
  // Virtual order: it cannot finish before this (its announced least round
  // time after start_s; start_s until announced).
  double not_before_s = 0;
  uint64_t serial = 0;  // starts before it in the run
  // kArrived: its admitted update and record; kEnded: why.
  ClientUpdate update;
  DeviceRoundRecord record;
  std::string reason;
  bool refused = false;  // kEnded by Refuse
  double finish_s = 0;   // kArrived, kEnded: when, on the run's clock
  uint64_t arrival = 0;  // kArrived, kEnded: reports before it
};

// FedBuff's staleness weight: 1 / (1 + staleness)^exponent.
double StalenessWeight(int64_t staleness, double exponent);

// A stale update as the strategies take it: the device's change from the
// model it started from (`base`), times `weight`, onto the current
// `global`. All three have one layout.
void Rebase(const Weights& global, const Weights& base, double weight,
            Weights* update);

class Flights {
 public:
  // `virtual_order`: take reports by virtual finish time (see above).
  explicit Flights(bool virtual_order) : virtual_order_(virtual_order) {}

  // Starts `device`, which is not flying, on `version` at `start_s`.
  Flight& Start(const std::string& device, int64_t version,
                std::shared_ptr<const Weights> base, double start_s);
  // Its flight until taken (any state), or null.
  Flight* Find(const std::string& device);
  const Flight* Find(const std::string& device) const;
  // Its task, assigned and not yet pulled: now training. False otherwise.
  bool Pull(const std::string& device);
  // It announced its round takes at least `seconds` (virtual); false (and
  // nothing done) unless it is training.
  bool Announce(const std::string& device, double seconds);
  // Its update arrived; call with it assigned or training.
  void Arrive(const std::string& device, ClientUpdate update,
              DeviceRoundRecord record, double finish_s);
  // It will not report (abandoned, left, silent, refused); false (and
  // nothing done) unless assigned or training. It is taken as finished at
  // its not_before_s: an update that never enters the buffer does not move
  // the run's clock further than the order needs.
  bool End(const std::string& device, const std::string& reason);
  // Its update was refused (already counted as a rejection); as End.
  void Refuse(const std::string& device);
  // Whether TakeNext would return a report.
  bool HasNext() const;

  // The next report, removed; nullopt when none may be taken yet.
  std::optional<Flight> TakeNext();
  size_t size() const { return flights_.size(); }
  // The busy() ones.
  std::vector<std::string> BusyDevices() const;

 private:
  // The report TakeNext takes, or end().
  std::map<std::string, Flight>::const_iterator Next() const;

  const bool virtual_order_;
  std::map<std::string, Flight> flights_;
  uint64_t starts_ = 0, reports_ = 0;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_FLIGHTS_H_
