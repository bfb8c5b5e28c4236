// The coordinator's Prometheus metrics (prometheus-cpp), served as text at
// GET /metrics on server.metrics_listen. The Coordinator calls it where the
// events happen; with no endpoint the calls only update the registry.
//
//   tandem_rounds_completed_total           rounds aggregated
//   tandem_round_attempts_failed_total      attempts that did not aggregate
//   tandem_rounds_rolled_back_total         aggregates the check refused
//   tandem_round_time_seconds               histogram: slowest participant
//                                           (measured, or virtual in sims)
//   tandem_round_wall_seconds               histogram: wall time of a round
//   tandem_device_joins_total               accepted Join calls
//   tandem_devices_joined                   joined and not left
//   tandem_devices_active                   ... and heard from recently
//   tandem_device_dropouts_total            sampled devices that dropped out
//   tandem_updates_accepted_total           updates that entered a round
//   tandem_updates_rejected_total{reason}   UpdateAdmission's reasons
//   tandem_received_bytes_total             gRPC payload bytes from devices
//   tandem_sent_bytes_total                 gRPC payload bytes to devices
//   tandem_split_streams_opened_total       split-training tails started
//   tandem_tail_compute_seconds_total       offloaded tails' compute
//   tandem_test_accuracy, tandem_test_loss  last evaluation of the global model
//
// Thread-safe (prometheus-cpp's metrics are atomic).
#ifndef TANDEM_SERVER_METRICS_H_
#define TANDEM_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/round_records.h"

namespace tandem::server {

class CoordinatorMetrics {
 public:
  // Serves on `listen` ("host:port"; port 0 picks a free one; "" = no
  // endpoint). `reasons` is the fixed set of rejection reasons: any other
  // reason is counted as "other", so no label value comes from a device.
  static absl::StatusOr<std::unique_ptr<CoordinatorMetrics>> Create(
      const std::string& listen, const std::vector<std::string>& reasons);
  ~CoordinatorMetrics();

  // The bound port; 0 without an endpoint.
  int port() const { return port_; }

  void DeviceJoined() { joins_->Increment(); }
  void SetDevices(int joined, int active);
  void UpdateAccepted() { accepted_->Increment(); }
  void UpdateRejected(const std::string& reason);
  void SplitStreamOpened() { split_streams_->Increment(); }
  void AddBytes(int64_t received, int64_t sent);
  // A round attempt ended: counts, times, dropouts, the tails' compute of
  // its devices' records and, if it evaluated, the test accuracy and loss.
  void RoundEnded(const RoundRecord& round,
                  const std::vector<DeviceRoundRecord>& devices);

 private:
  CoordinatorMetrics();
  void Register(const std::vector<std::string>& reasons);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;  // null: no endpoint
  int port_ = 0;
  // Owned by registry_'s families; set by Register(), then read-only.
  prometheus::Counter* rounds_ = nullptr;
  prometheus::Counter* failed_attempts_ = nullptr;
  prometheus::Counter* rollbacks_ = nullptr;
  prometheus::Histogram* round_time_ = nullptr;
  prometheus::Histogram* round_wall_ = nullptr;
  prometheus::Counter* joins_ = nullptr;
  prometheus::Gauge* joined_ = nullptr;
  prometheus::Gauge* active_ = nullptr;
  prometheus::Counter* dropouts_ = nullptr;
  prometheus::Counter* accepted_ = nullptr;
  std::map<std::string, prometheus::Counter*> rejected_;  // reason -> counter
  prometheus::Counter* received_bytes_ = nullptr;
  prometheus::Counter* sent_bytes_ = nullptr;
  prometheus::Counter* split_streams_ = nullptr;
  prometheus::Counter* tail_seconds_ = nullptr;
  prometheus::Gauge* accuracy_ = nullptr;
  prometheus::Gauge* loss_ = nullptr;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_METRICS_H_
