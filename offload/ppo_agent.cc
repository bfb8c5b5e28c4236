#include "offload/ppo_agent.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/run_writer.h"
#include "core/weights.h"
#include "nlohmann/json.hpp"

namespace tandem::offload {
namespace {

namespace nn = torch::nn;

nlohmann::json OptionsToJson(const PpoOptions& o) {
  return {{"state_dim", o.state_dim},
          {"groups", o.groups},
          {"actions", o.actions},
          {"hidden", o.hidden},
          {"learning_rate", o.learning_rate},
          {"gamma", o.gamma},
          {"clip", o.clip},
          {"epochs", o.epochs},
          {"entropy", o.entropy},
          {"seed", o.seed}};
}

absl::StatusOr<PpoOptions> OptionsFromJson(const nlohmann::json& j) {
  PpoOptions o;
  try {
    o.state_dim = j.at("state_dim");
    o.groups = j.at("groups");
    o.actions = j.at("actions");
    o.hidden = j.at("hidden");
    o.learning_rate = j.at("learning_rate");
    o.gamma = j.at("gamma");
    o.clip = j.at("clip");
    o.epochs = j.at("epochs");
    o.entropy = j.at("entropy");
    o.seed = j.at("seed");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy file: bad options: ", e.what()));
  }
  return o;
}

absl::Status Check(const PpoOptions& o) {
  if (o.state_dim < 1 || o.groups < 1 || o.actions < 2 || o.hidden < 1 ||
      o.epochs < 1 || !(o.learning_rate > 0) || o.clip <= 0) {
    return absl::InvalidArgumentError("ppo: invalid options");
  }
  return absl::OkStatus();
}

}  // namespace

struct PpoAgent::Impl {
  PpoOptions options;
  nn::Sequential actor{nullptr}, critic{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;
  std::mt19937_64 rng;
  std::vector<Step> steps;
  std::vector<double> rewards;

  std::vector<torch::Tensor> Parameters() {
    std::vector<torch::Tensor> p = actor->parameters();
    for (const torch::Tensor& c : critic->parameters()) p.push_back(c);
    return p;
  }
  // [n, groups, actions] log-probabilities.
  torch::Tensor LogProbs(const torch::Tensor& states) {
    return torch::log_softmax(
        actor->forward(states).view({-1, options.groups, options.actions}), 2);
  }
};

PpoAgent::PpoAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PpoAgent::~PpoAgent() = default;

absl::StatusOr<std::unique_ptr<PpoAgent>> PpoAgent::Create(
    const PpoOptions& o) {
  absl::Status ok = Check(o);
  if (!ok.ok()) return ok;
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  impl->rng.seed(o.seed);
  torch::manual_seed(o.seed);
  impl->actor = nn::Sequential(nn::Linear(o.state_dim, o.hidden), nn::Tanh(),
                               nn::Linear(o.hidden, o.hidden), nn::Tanh(),
                               nn::Linear(o.hidden, o.groups * o.actions));
  impl->critic = nn::Sequential(nn::Linear(o.state_dim, o.hidden), nn::Tanh(),
                                nn::Linear(o.hidden, 1));
  impl->adam = std::make_unique<torch::optim::Adam>(
      impl->Parameters(), torch::optim::AdamOptions(o.learning_rate));
  return std::unique_ptr<PpoAgent>(new PpoAgent(std::move(impl)));
}

const PpoOptions& PpoAgent::options() const { return impl_->options; }
int PpoAgent::recorded() const { return static_cast<int>(impl_->steps.size()); }

absl::StatusOr<PpoAgent::Step> PpoAgent::Act(const std::vector<float>& state,
                                             bool deterministic) {
  const PpoOptions& o = impl_->options;
  if (static_cast<int>(state.size()) != o.state_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ppo: state of ", state.size(), " values, expected ", o.state_dim));
  }
  torch::NoGradGuard no_grad;
  torch::Tensor s = torch::tensor(state).view({1, o.state_dim});
  torch::Tensor logp = impl_->LogProbs(s)[0];  // [groups, actions]
  Step step;
  step.state = state;
  for (int g = 0; g < o.groups; ++g) {
    torch::Tensor p = logp[g].exp();
    int a = 0;
    if (deterministic) {
      a = static_cast<int>(p.argmax().item<int64_t>());
    } else {
      std::vector<double> w(p.data_ptr<float>(),
                            p.data_ptr<float>() + o.actions);
      a = std::discrete_distribution<int>(w.begin(), w.end())(impl_->rng);
    }
    step.actions.push_back(a);
    step.log_prob += logp[g][a].item<double>();
  }
  step.value = impl_->critic->forward(s).item<double>();
  return step;
}

void PpoAgent::Record(const Step& step, double reward) {
  impl_->steps.push_back(step);
  impl_->rewards.push_back(reward);
}

absl::Status PpoAgent::Update() {
  Impl& m = *impl_;
  const PpoOptions& o = m.options;
  const int n = static_cast<int>(m.steps.size());
  if (n == 0) return absl::OkStatus();
  std::vector<float> states, old_logp, returns(n), values;
  std::vector<int64_t> actions;
  double running = 0;
  for (int i = n - 1; i >= 0; --i) {
    running = m.rewards[i] + o.gamma * running;
    returns[i] = static_cast<float>(running);
  }
  for (const Step& s : m.steps) {
    states.insert(states.end(), s.state.begin(), s.state.end());
    actions.insert(actions.end(), s.actions.begin(), s.actions.end());
    old_logp.push_back(static_cast<float>(s.log_prob));
    values.push_back(static_cast<float>(s.value));
  }
  try {
    torch::Tensor S = torch::tensor(states).view({n, o.state_dim});
    torch::Tensor A = torch::tensor(actions).view({n, o.groups, 1});
    torch::Tensor old = torch::tensor(old_logp);
    torch::Tensor R = torch::tensor(returns);
    torch::Tensor adv = R - torch::tensor(values);
    if (n > 1) adv = (adv - adv.mean()) / (adv.std() + 1e-8);
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      torch::Tensor logp = m.LogProbs(S);
      torch::Tensor new_logp = logp.gather(2, A).squeeze(2).sum(1);
      torch::Tensor ratio = (new_logp - old).exp();
      torch::Tensor surrogate =
          torch::min(ratio * adv, ratio.clamp(1 - o.clip, 1 + o.clip) * adv);
      torch::Tensor entropy = -(logp.exp() * logp).sum({1, 2}).mean();
      torch::Tensor value_loss =
          (m.critic->forward(S).squeeze(1) - R).pow(2).mean();
      torch::Tensor loss =
          -surrogate.mean() + 0.5 * value_loss - o.entropy * entropy;
      m.adam->zero_grad();
      loss.backward();
      m.adam->step();
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("ppo update: ", e.what()));
  }
  m.steps.clear();
  m.rewards.clear();
  return absl::OkStatus();
}

namespace {

std::vector<float> Flat(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  return std::vector<float>(c.data_ptr<float>(),
                            c.data_ptr<float>() + c.numel());
}

// `values` into a tensor shaped like `like`; false when the sizes differ.
bool Fill(const std::vector<float>& values, torch::Tensor* like) {
  if (static_cast<int64_t>(values.size()) != like->numel()) return false;
  torch::Tensor t = torch::from_blob(const_cast<float*>(values.data()),
                                     like->sizes(), torch::kFloat32);
  *like = t.clone();
  return true;
}

}  // namespace

nlohmann::json PpoAgent::StepToJson(const Step& s) {
  return {{"state", s.state},
          {"actions", s.actions},
          {"log_prob", s.log_prob},
          {"value", s.value}};
}

bool PpoAgent::StepFromJson(const nlohmann::json& j, const PpoOptions& o,
                            Step* s) {
  if (!j.is_object() || !j.contains("state") || !j["state"].is_array() ||
      !j.contains("actions") || !j["actions"].is_array() ||
      !j.value("log_prob", nlohmann::json()).is_number() ||
      !j.value("value", nlohmann::json()).is_number() ||
      static_cast<int>(j["state"].size()) != o.state_dim ||
      static_cast<int>(j["actions"].size()) != o.groups) {
    return false;
  }
  for (const nlohmann::json& x : j["state"]) {
    if (!x.is_number()) return false;
    s->state.push_back(x.get<float>());
  }
  for (const nlohmann::json& a : j["actions"]) {
    if (!a.is_number_integer() || a.get<int>() < 0 ||
        a.get<int>() >= o.actions) {
      return false;
    }
    s->actions.push_back(a.get<int>());
  }
  s->log_prob = j["log_prob"].get<double>();
  s->value = j["value"].get<double>();
  return true;
}

void PpoAgent::SaveState(const std::string& key, RunState* out) const {
  Impl& m = *impl_;
  const std::vector<torch::Tensor> params = m.Parameters();
  nlohmann::json adam_steps = nlohmann::json::array();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string at = absl::StrCat(key, ".", i);
    out->arrays[at + ".w"] = Flat(params[i]);
    auto it = m.adam->state().find(
        c10::guts::to_string(params[i].unsafeGetTensorImpl()));
    if (it == m.adam->state().end()) {
      adam_steps.push_back(0);
      continue;
    }
    const auto& st =
        static_cast<const torch::optim::AdamParamState&>(*it->second);
    adam_steps.push_back(st.step());
    out->arrays[at + ".m"] = Flat(st.exp_avg());
    out->arrays[at + ".v"] = Flat(st.exp_avg_sq());
  }
  std::ostringstream rng;
  rng << m.rng;
  nlohmann::json steps = nlohmann::json::array();
  for (const Step& s : m.steps) steps.push_back(StepToJson(s));
  out->values[key] = {{"adam_steps", adam_steps},
                      {"rng", rng.str()},
                      {"steps", steps},
                      {"rewards", m.rewards}};
}

absl::Status PpoAgent::LoadState(const std::string& key, const RunState& in) {
  Impl& m = *impl_;
  auto bad = [&key](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("ppo agent state (", key, "): ", what));
  };
  auto values = in.values.find(key);
  if (values == in.values.end() || !values->is_object()) return bad("missing");
  const nlohmann::json& v = *values;
  const std::vector<torch::Tensor> params = m.Parameters();
  const nlohmann::json adam_steps = v.value("adam_steps", nlohmann::json());
  const nlohmann::json steps = v.value("steps", nlohmann::json());
  const nlohmann::json rewards = v.value("rewards", nlohmann::json());
  if (!adam_steps.is_array() || adam_steps.size() != params.size() ||
      !v.value("rng", nlohmann::json()).is_string() || !steps.is_array() ||
      !rewards.is_array() || rewards.size() != steps.size()) {
    return bad("malformed");
  }
  // Everything is read and checked before anything changes.
  std::vector<torch::Tensor> w(params.size()), mo(params.size()),
      ve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string at = absl::StrCat(key, ".", i);
    auto wi = in.arrays.find(at + ".w");
    w[i] = torch::empty_like(params[i]);
    if (wi == in.arrays.end() || !Fill(wi->second, &w[i])) {
      return bad(absl::StrCat("weights ", i));
    }
    if (!adam_steps[i].is_number_integer() ||
        adam_steps[i].get<int64_t>() < 0) {
      return bad("adam steps");
    }
    if (adam_steps[i].get<int64_t>() == 0) continue;
    auto mi = in.arrays.find(at + ".m"), vi = in.arrays.find(at + ".v");
    mo[i] = torch::empty_like(params[i]);
    ve[i] = torch::empty_like(params[i]);
    if (mi == in.arrays.end() || vi == in.arrays.end() ||
        !Fill(mi->second, &mo[i]) || !Fill(vi->second, &ve[i])) {
      return bad(absl::StrCat("adam moments ", i));
    }
  }
  std::vector<Step> recorded(steps.size());
  std::vector<double> rewarded;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!StepFromJson(steps[i], m.options, &recorded[i]) ||
        !rewards[i].is_number()) {
      return bad("recorded steps");
    }
    rewarded.push_back(rewards[i].get<double>());
  }
  std::mt19937_64 rng;
  std::istringstream rng_text(v["rng"].get<std::string>());
  rng_text >> rng;
  if (rng_text.fail()) return bad("rng");

  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor p = params[i];
    p.copy_(w[i]);
    const std::string id = c10::guts::to_string(p.unsafeGetTensorImpl());
    m.adam->state().erase(id);
    if (adam_steps[i].get<int64_t>() == 0) continue;
    auto st = std::make_unique<torch::optim::AdamParamState>();
    st->step(adam_steps[i].get<int64_t>());
    st->exp_avg(mo[i]);
    st->exp_avg_sq(ve[i]);
    m.adam->state()[id] = std::move(st);
  }
  m.rng = rng;
  m.steps = std::move(recorded);
  m.rewards = std::move(rewarded);
  return absl::OkStatus();
}

absl::Status PpoAgent::Save(const std::string& path) const {
  std::vector<TensorSpec> specs;
  std::vector<torch::Tensor> tensors;
  for (auto* net : {&impl_->actor, &impl_->critic}) {
    const std::string prefix = net == &impl_->actor ? "actor." : "critic.";
    for (const auto& p : (*net)->named_parameters()) {
      specs.push_back({prefix + p.key(), p.value().sizes().vec()});
      tensors.push_back(p.value());
    }
  }
  auto layout = WeightsLayout::Create(std::move(specs));
  if (!layout.ok()) return layout.status();
  Weights w(*std::move(layout));
  for (size_t i = 0; i < tensors.size(); ++i) {
    torch::Tensor t = tensors[i].detach().contiguous();
    std::memcpy(w.tensor(static_cast<int>(i)).data(), t.data_ptr<float>(),
                t.numel() * sizeof(float));
  }
  const std::string header = OptionsToJson(impl_->options).dump();
  const uint32_t len = static_cast<uint32_t>(header.size());
  std::string bytes(reinterpret_cast<const char*>(&len), 4);
  bytes += header;
  bytes += EncodeCheckpoint(0, w);
  return WriteFileAtomically(path, bytes);
}

absl::StatusOr<std::unique_ptr<PpoAgent>> PpoAgent::Load(
    const std::string& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  uint32_t len = 0;
  if (bytes->size() < 4)
    return absl::InvalidArgumentError("policy file: short");
  std::memcpy(&len, bytes->data(), 4);
  if (4 + static_cast<size_t>(len) > bytes->size()) {
    return absl::InvalidArgumentError("policy file: header runs past the end");
  }
  nlohmann::json header =
      nlohmann::json::parse(bytes->substr(4, len), nullptr, false);
  if (header.is_discarded()) {
    return absl::InvalidArgumentError("policy file: bad header");
  }
  auto options = OptionsFromJson(header);
  if (!options.ok()) return options.status();
  auto agent = Create(*options);
  if (!agent.ok()) return agent.status();
  auto w = DecodeCheckpoint(bytes->substr(4 + len), nullptr);
  if (!w.ok()) return w.status();
  torch::NoGradGuard no_grad;
  int i = 0;
  for (auto* net : {&(*agent)->impl_->actor, &(*agent)->impl_->critic}) {
    for (auto& p : (*net)->named_parameters()) {
      if (i >= static_cast<int>(w->layout().tensors().size()) ||
          w->layout().tensors()[i].shape != p.value().sizes().vec()) {
        return absl::InvalidArgumentError(
            "policy file: weights do not match its options");
      }
      auto src = w->tensor(i++);
      p.value().copy_(torch::from_blob(const_cast<float*>(src.data()),
                                       p.value().sizes(), torch::kFloat32));
    }
  }
  return agent;
}

}  // namespace tandem::offload
