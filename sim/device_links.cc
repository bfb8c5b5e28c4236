#include "sim/device_links.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/seeds.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"

namespace tandem::sim {
namespace {

class TraceFiles {
 public:
  // The trace at `path` ("" = none), read once; errors name `key`.
  absl::StatusOr<std::shared_ptr<const LinkTrace>> Get(const std::string& path,
                                                       const std::string& key) {
    if (path.empty()) return nullptr;
    auto it = read_.find(path);
    if (it != read_.end()) return it->second;
    absl::StatusOr<std::shared_ptr<const LinkTrace>> t = LinkTrace::Read(path);
    if (!t.ok()) {
      return absl::Status(
          t.status().code(),
          absl::StrCat("config: ", key, ": ", t.status().message()));
    }
    read_[path] = *t;
    return *t;
  }

 private:
  std::map<std::string, std::shared_ptr<const LinkTrace>> read_;
};

// Where device `index` starts in a trace of `period_s`.
double OffsetFor(const Config& c, size_t index, double period_s) {
  std::mt19937_64 rng(StreamSeed(c.seed * kSideSeedStride + index, 1));
  return static_cast<double>(rng() >> 11) * 0x1.0p-53 * period_s;
}

}  // namespace

absl::StatusOr<std::vector<DeviceLinks>> LoadDeviceLinks(const Config& c) {
  const std::vector<std::string> ids = data::FleetDeviceIds(c);
  std::vector<DeviceLinks> out(ids.size());
  TraceFiles files;
  size_t index = 0;
  for (size_t k = 0; k < c.fleet.classes.size(); ++k) {
    const DeviceClassConfig& cls = c.fleet.classes[k];
    const std::string key = absl::StrCat("$.fleet.classes[", k, "]");
    TANDEM_ASSIGN_OR_RETURN(auto up,
                            files.Get(cls.uplink_trace, key + ".uplink_trace"));
    TANDEM_ASSIGN_OR_RETURN(
        auto down, files.Get(cls.downlink_trace, key + ".downlink_trace"));
    for (int d = 0; d < cls.count; ++d, ++index) {
      const double period =
          std::max(up ? up->period_s() : 0.0, down ? down->period_s() : 0.0);
      const double offset = period > 0 ? OffsetFor(c, index, period) : 0;
      if (up) out[index].uplink = TracedLink{up, offset};
      if (down) out[index].downlink = TracedLink{down, offset};
    }
  }
  for (size_t i = 0; i < c.fleet.link_traces.size(); ++i) {
    const DeviceLinkTrace& t = c.fleet.link_traces[i];
    const std::string key = absl::StrCat("$.fleet.link_traces[", i, "]");
    const int at = data::FleetIndexOf(c, t.device);
    if (at < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", key, ".device: no device \"", t.device,
                       "\" (devices are named <class>-NN, e.g. \"",
                       ids.empty() ? "pi3-00" : ids[0], "\")"));
    }
    TANDEM_ASSIGN_OR_RETURN(auto up,
                            files.Get(t.uplink_trace, key + ".uplink_trace"));
    TANDEM_ASSIGN_OR_RETURN(
        auto down, files.Get(t.downlink_trace, key + ".downlink_trace"));
    out[at] = {TracedLink{up, 0}, TracedLink{down, 0}};
  }
  return out;
}

DeviceModel WithLinks(DeviceModel model, const DeviceLinks& links) {
  model.uplink = links.uplink;
  model.downlink = links.downlink;
  return model;
}

}  // namespace tandem::sim
