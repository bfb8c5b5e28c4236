#include "offload/ppo_agent.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <random>

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
