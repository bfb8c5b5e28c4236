#include "sim/random_scenario.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "core/tensor_codec.h"
#include "ml/profile_file.h"
#include "offload/split_policy.h"
#include "sim/trace_generator.h"

namespace tandem::sim {
namespace {

// Drawn from the generator's bits alone, so a seed gives the same scenarios
// with any standard library.
double Uniform(std::mt19937_64& rng, double lo = 0, double hi = 1) {
  return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
double LogUniform(std::mt19937_64& rng, double lo, double hi) {
  return std::exp(Uniform(rng, std::log(lo), std::log(hi)));
}
int Between(std::mt19937_64& rng, int lo, int hi) {  // [lo, hi]
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}
double Normal(std::mt19937_64& rng) {
  const double u = std::max(Uniform(rng), 1e-300), v = Uniform(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
}

std::vector<double> Steps(std::mt19937_64& rng, double base, int rounds) {
  std::vector<double> m(rounds, base);
  const int drop = Between(rng, 2, std::max(2, rounds));
  const int back = Uniform(rng) < 0.5 ? Between(rng, drop, rounds + 1) : -1;
  const double low = base * Uniform(rng, 0.05, 0.5);
  for (int r = drop; r <= rounds; ++r) {
    if (back > 0 && r >= back) break;
    m[r - 1] = low;
  }
  return m;
}

std::vector<double> Markov(std::mt19937_64& rng, double base, int rounds) {
  const double bad = base * Uniform(rng, 0.02, 0.3);
  const double p_fade = Uniform(rng, 0.05, 0.4),
               p_recover = Uniform(rng, 0.2, 0.7);
  std::vector<double> m;
  bool good = true;
  for (int r = 0; r < rounds; ++r) {
    m.push_back(good ? base : bad);
    good = good ? Uniform(rng) >= p_fade : Uniform(rng) < p_recover;
  }
  return m;
}

std::vector<double> Drift(std::mt19937_64& rng, double base, int rounds) {
  std::vector<double> m;
  double x = base;
  for (int r = 0; r < rounds; ++r) {
    m.push_back(x);
    x = std::clamp(x * std::exp(0.3 * Normal(rng)), base / 20, base * 3);
  }
  return m;
}

// Both directions of `d` on one Markov fading trace, its stays scaled to
// the device's local round.
void DrawFadingTrace(std::mt19937_64& rng, const ml::ModelProfile& profile,
                     int64_t seed, CostDevice& d) {
  DeviceModel& m = d.estimate;
  const double local_s = std::max(
      0.01, m.slowdown * static_cast<double>(d.view.examples) *
                ml::StageSeconds(profile, 0,
                                 static_cast<int>(profile.stages.size())));
  FadingTraceSpec spec;
  spec.good_mbps = m.bandwidth_mbps;
  spec.bad_mbps = m.bandwidth_mbps * Uniform(rng, 0.02, 0.3);
  spec.mean_good_s = local_s * LogUniform(rng, 0.3, 10);
  spec.mean_bad_s = local_s * LogUniform(rng, 0.2, 3);
  spec.seconds = std::min(86400.0, 40 * (spec.mean_good_s + spec.mean_bad_s));
  spec.seed = static_cast<uint64_t>(seed);
  auto trace = std::make_shared<const LinkTrace>(FadingTrace(spec).value());
  TracedLink link;
  link.offset_s = Uniform(rng, 0, trace->period_s());
  link.trace = std::move(trace);
  m.uplink = m.downlink = link;
  d.view.device = m.Advertised();
}

Config ScenarioConfig(std::mt19937_64& rng, const NamedProfile& model) {
  Config c;
  c.model.name = model.model;
  const int batches[] = {32, 64, 100};
  c.training.batch_size = batches[Between(rng, 0, 2)];
  const ActivationCodec codecs[] = {
      ActivationCodec::kFp32, ActivationCodec::kFp16, ActivationCodec::kInt8};
  c.offload.activation_codec = codecs[Between(rng, 0, 2)];
  const double mode = Uniform(rng);
  c.offload.mode = mode < 0.25  ? OffloadMode::kExact
                   : mode < 0.5 ? OffloadMode::kLocalLoss
                                : OffloadMode::kAuto;
  c.offload.server_cores = Between(rng, 1, 4);
  c.offload.alpha = Uniform(rng) < 0.8 ? 1.0 : Uniform(rng, 0.3, 1.0);
  c.offload.policy = "ppo";
  return c;
}

}  // namespace

absl::StatusOr<std::vector<NamedProfile>> ZooProfiles(const std::string& dir) {
  std::vector<NamedProfile> out;
  for (const char* model : {"mlp", "cnn", "vgg5"}) {
    auto p =
        ml::ReadProfile(absl::StrFormat("%s/%s-fashion-mnist.json", dir, model),
                        model, {1, 28, 28, 10});
    if (!p.ok()) return p.status();
    out.push_back({model, *std::move(p)});
  }
  return out;
}

std::vector<double> DrawLink(std::mt19937_64& rng, LinkProcess process,
                             double base, int rounds) {
  if (process == LinkProcess::kAny) {
    process = static_cast<LinkProcess>(Between(rng, 1, 4));
  }
  std::vector<double> m;
  switch (process) {
    case LinkProcess::kSteps:
      m = Steps(rng, base, rounds);
      break;
    case LinkProcess::kMarkov:
      m = Markov(rng, base, rounds);
      break;
    case LinkProcess::kDrift:
      m = Drift(rng, base, rounds);
      break;
    default:
      m.assign(rounds, base);
  }
  for (double& x : m) x = std::clamp(x, 0.1, 2000.0);
  return m;
}

CostScenario DrawScenario(std::mt19937_64& rng,
                          const std::vector<NamedProfile>& profiles,
                          const ScenarioOptions& o) {
  const NamedProfile& model =
      profiles[Between(rng, 0, static_cast<int>(profiles.size()) - 1)];
  CostScenario s;
  s.config = ScenarioConfig(rng, model);
  const int stages = static_cast<int>(model.profile.stages.size());
  s.context = offload::PolicyContextFromConfig(s.config, stages).value();
  s.context.profile =
      ml::AtBatchSize(model.profile, s.config.training.batch_size);
  const int n = Between(rng, o.min_devices, o.max_devices);
  for (int i = 0; i < n; ++i) {
    CostDevice d;
    DeviceModel& m = d.estimate;
    m.slowdown = LogUniform(rng, o.min_slowdown, o.max_slowdown);
    m.bandwidth_mbps = LogUniform(rng, o.min_mbps, o.max_mbps);
    m.latency_ms = Uniform(rng, 0, o.max_latency_ms);
    m.power_compute_w = Uniform(rng, 2, 10);
    m.power_transmit_w = Uniform(rng, 0.5, 3);
    m.power_receive_w = Uniform(rng, 0.5, 3);
    d.view.id = absl::StrFormat("dev-%02d", i);
    d.view.device_class = d.view.id;
    d.view.device = m;
    d.view.examples = static_cast<int64_t>(LogUniform(rng, 200, 12000));
    for (const ml::StageProfile& st : s.context.profile.stages) {
      d.view.stage_seconds.push_back(st.TrainSeconds(ml::kStageTimingBatch) *
                                     m.slowdown);
    }
    s.mbps.push_back(DrawLink(rng, o.links, m.bandwidth_mbps, o.rounds));
    if (o.links == LinkProcess::kFadingTrace) {
      DrawFadingTrace(rng, s.context.profile, static_cast<int64_t>(rng() >> 1),
                      d);
    }
    s.fleet.push_back(std::move(d));
  }
  return s;
}

}  // namespace tandem::sim
