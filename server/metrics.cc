#include "server/metrics.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "server/civetweb_threads.h"

namespace tandem::server {
namespace {

// Round durations from a second (a simulated round of a small model) to an
// hour (a deadline).
const prometheus::Histogram::BucketBoundaries& RoundBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600};
  return *buckets;
}

prometheus::Counter& AddCounter(prometheus::Registry& r,
                                const std::string& name,
                                const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

prometheus::Gauge& AddGauge(prometheus::Registry& r, const std::string& name,
                            const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Histogram& AddHistogram(prometheus::Registry& r,
                                    const std::string& name,
                                    const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(
      {}, RoundBuckets());
}

// civetweb's messages while the Exposer starts (on the starting thread),
// for the error.
thread_local std::string* civetweb_log = nullptr;

int KeepCivetwebMessage(const mg_connection*, const char* message) {
  if (civetweb_log != nullptr) absl::StrAppend(civetweb_log, " ", message);
  return 1;
}

// A port on `host` that nothing listens on: bound, read back, closed.
absl::StatusOr<int> FreePort(std::string host) {
  if (host.size() >= 2 && host.front() == '[') {
    host = host.substr(1, host.size() - 2);  // [::1]
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), "0", &hints, &found) !=
          0 ||
      found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown host '", host, "'"));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  const int fd = socket(found->ai_family, SOCK_STREAM, 0);
  const bool ok =
      fd >= 0 && bind(fd, found->ai_addr, found->ai_addrlen) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0;
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  if (!ok) {
    return absl::UnavailableError(absl::StrCat("cannot bind on '", host, "'"));
  }
  return bound.ss_family == AF_INET6
             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

// civetweb does not listen on port 0: "host:0" becomes "host:<a free port>"
// (another process could take it first; then Create fails).
absl::StatusOr<std::string> WithFreePort(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || listen.substr(colon + 1) != "0") {
    return listen;
  }
  const std::string host = listen.substr(0, colon);
  absl::StatusOr<int> port = FreePort(host);
  if (!port.ok()) return port.status();
  return absl::StrCat(host, ":", *port);
}

}  // namespace

CoordinatorMetrics::CoordinatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()) {}

CoordinatorMetrics::~CoordinatorMetrics() = default;

absl::StatusOr<std::unique_ptr<CoordinatorMetrics>> CoordinatorMetrics::Create(
    const std::string& listen, const std::vector<std::string>& reasons) {
  std::unique_ptr<CoordinatorMetrics> m(new CoordinatorMetrics());
  m->Register(reasons);
  if (listen.empty()) return m;
  absl::StatusOr<std::string> address = WithFreePort(listen);
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server.metrics_listen: '", listen, "': ", address.status().message()));
  }
  AllowCivetwebThreads();
  std::string log;
  civetweb_log = &log;
  CivetCallbacks callbacks;
  callbacks.log_message = KeepCivetwebMessage;
  try {
    // One HTTP thread: a scrape every few seconds is all it serves.
    m->exposer_ =
        std::make_unique<prometheus::Exposer>(*address, 1, &callbacks);
  } catch (const std::exception& e) {
    civetweb_log = nullptr;
    return absl::UnavailableError(
        absl::StrCat("server.metrics_listen: cannot listen on '", listen,
                     "': ", e.what(), log));
  }
  civetweb_log = nullptr;
  m->exposer_->RegisterCollectable(m->registry_);
  const std::vector<int> ports = m->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "server.metrics_listen: no port bound for '", listen, "'"));
  }
  m->port_ = ports.front();
  return m;
}

void CoordinatorMetrics::Register(const std::vector<std::string>& reasons) {
  prometheus::Registry& r = *registry_;
  rounds_ = &AddCounter(r, "tandem_rounds_completed_total",
                        "Rounds whose updates were aggregated");
  failed_attempts_ =
      &AddCounter(r, "tandem_round_attempts_failed_total",
                  "Round attempts that ended without an aggregate");
  rollbacks_ = &AddCounter(r, "tandem_rounds_rolled_back_total",
                           "Rounds whose aggregate failed its check");
  round_time_ = &AddHistogram(
      r, "tandem_round_time_seconds",
      "Round time: the slowest participant's (virtual in simulation)");
  round_wall_ = &AddHistogram(r, "tandem_round_wall_seconds",
                              "Wall-clock time from opening to closing");
  joins_ = &AddCounter(r, "tandem_device_joins_total", "Accepted joins");
  joined_ = &AddGauge(r, "tandem_devices_joined", "Joined devices, not left");
  active_ = &AddGauge(r, "tandem_devices_active",
                      "Joined devices heard from within "
                      "server.device_timeout_s");
  dropouts_ = &AddCounter(r, "tandem_device_dropouts_total",
                          "Sampled devices that abandoned, left or timed out");
  accepted_ = &AddCounter(r, "tandem_updates_accepted_total",
                          "Updates accepted into a round");
  auto& rejected = prometheus::BuildCounter()
                       .Name("tandem_updates_rejected_total")
                       .Help("Updates and split streams refused, by reason")
                       .Register(r);
  for (const std::string& reason : reasons) {
    rejected_[reason] = &rejected.Add({{"reason", reason}});
  }
  rejected_["other"] = &rejected.Add({{"reason", "other"}});
  received_bytes_ = &AddCounter(r, "tandem_received_bytes_total",
                                "Payload bytes of gRPC messages from devices");
  sent_bytes_ = &AddCounter(r, "tandem_sent_bytes_total",
                            "Payload bytes of gRPC messages to devices");
  split_streams_ = &AddCounter(r, "tandem_split_streams_opened_total",
                               "Split-training tails started");
  tail_seconds_ =
      &AddCounter(r, "tandem_tail_compute_seconds_total",
                  "Compute seconds of offloaded tails in accepted updates");
  accuracy_ = &AddGauge(r, "tandem_test_accuracy",
                        "Test accuracy of the global model (0-1)");
  loss_ = &AddGauge(r, "tandem_test_loss", "Test loss of the global model");
}

void CoordinatorMetrics::SetDevices(int joined, int active) {
  joined_->Set(joined);
  active_->Set(active);
}

void CoordinatorMetrics::UpdateRejected(const std::string& reason) {
  auto it = rejected_.find(reason);
  (it != rejected_.end() ? it->second : rejected_.at("other"))->Increment();
}

void CoordinatorMetrics::AddBytes(int64_t received, int64_t sent) {
  received_bytes_->Increment(static_cast<double>(received));
  sent_bytes_->Increment(static_cast<double>(sent));
}

void CoordinatorMetrics::RoundEnded(
    const RoundRecord& round, const std::vector<DeviceRoundRecord>& devices) {
  (round.aggregated    ? rounds_
   : round.rolled_back ? rollbacks_
                       : failed_attempts_)
      ->Increment();
  if (round.opened) {
    round_time_->Observe(round.round_time_s);
    round_wall_->Observe(round.round_wall_s);
    dropouts_->Increment(round.dropped);
  }
  for (const DeviceRoundRecord& d : devices) {
    if (d.has_tail) tail_seconds_->Increment(d.tail_s);
  }
  if (round.evaluated && !round.rolled_back) {
    accuracy_->Set(round.accuracy);
    loss_->Set(round.loss);
  }
}

}  // namespace tandem::server
