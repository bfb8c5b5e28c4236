#include "offload/ppo_agent.h"

#include <torch/torch.h>

#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "core/weights.h"

namespace tandem::offload {
namespace {

namespace nn = torch::nn;

constexpr char kFormat[] = "tandem-ppo-policy";
constexpr int kVersion = 2;  // 1: FedAdapt-style groups (no longer read)

nlohmann::json OptionsToJson(const PpoOptions& o) {
  return {{"features", o.features},
          {"context", o.context},
          {"hidden", o.hidden},
          {"learning_rate", o.learning_rate},
          {"clip", o.clip},
          {"epochs", o.epochs},
          {"entropy", o.entropy},
          {"seed", o.seed},
          {"prior_feature", o.prior_feature},
          {"prior_scale", o.prior_scale}};
}

absl::Status Check(const PpoOptions& o) {
  if (o.features < 1 || o.context < 1 || o.hidden < 1 || o.hidden > 4096 ||
      o.epochs < 1 || !(o.learning_rate > 0) || !(o.clip > 0) ||
      !(o.entropy >= 0) || o.prior_feature < -1 ||
      o.prior_feature >= o.features || !(o.prior_scale >= 0)) {
    return absl::InvalidArgumentError("ppo: invalid options");
  }
  return absl::OkStatus();
}

absl::StatusOr<PpoOptions> OptionsFromJson(const nlohmann::json& j) {
  PpoOptions o;
  try {
    o.features = j.at("features");
    o.context = j.at("context");
    o.hidden = j.at("hidden");
    o.learning_rate = j.at("learning_rate");
    o.clip = j.at("clip");
    o.epochs = j.at("epochs");
    o.entropy = j.at("entropy");
    o.seed = j.at("seed");
    o.prior_feature = j.at("prior_feature");
    o.prior_scale = j.at("prior_scale");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad options: ", e.what()));
  }
  absl::Status ok = Check(o);
  if (!ok.ok()) return ok;
  return o;
}

std::vector<float> Flat(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  return std::vector<float>(c.data_ptr<float>(),
                            c.data_ptr<float>() + c.numel());
}

// `values` into a tensor shaped like `like`; false when the sizes differ.
bool Fill(const std::vector<float>& values, torch::Tensor* like) {
  if (static_cast<int64_t>(values.size()) != like->numel()) return false;
  *like = torch::from_blob(const_cast<float*>(values.data()), like->sizes(),
                           torch::kFloat32)
              .clone();
  return true;
}

bool FloatsFromJson(const nlohmann::json& j, std::vector<float>* out) {
  if (!j.is_array()) return false;
  for (const nlohmann::json& x : j) {
    if (!x.is_number()) return false;
    out->push_back(x.get<float>());
  }
  return true;
}

}  // namespace

struct PpoAgent::Impl {
  PpoOptions options;
  nn::Sequential actor{nullptr}, critic{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;
  std::vector<Decision> decisions;
  std::vector<double> rewards;

  std::vector<torch::Tensor> Parameters() {
    std::vector<torch::Tensor> p = actor->parameters();
    for (const torch::Tensor& c : critic->parameters()) p.push_back(c);
    return p;
  }
  // Logits of `x` [..., features] -> [...].
  torch::Tensor Logits(const torch::Tensor& x) {
    torch::Tensor logits = actor->forward(x).squeeze(-1);
    if (options.prior_feature < 0) return logits;
    return logits - options.prior_scale * x.select(-1, options.prior_feature);
  }
  void UpdateOnce();  // may throw (LibTorch)
};

PpoAgent::PpoAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PpoAgent::~PpoAgent() = default;

absl::StatusOr<std::unique_ptr<PpoAgent>> PpoAgent::Create(
    const PpoOptions& o) {
  absl::Status ok = Check(o);
  if (!ok.ok()) return ok;
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  torch::manual_seed(o.seed);
  impl->actor = nn::Sequential(nn::Linear(o.features, o.hidden), nn::Tanh(),
                               nn::Linear(o.hidden, o.hidden), nn::Tanh(),
                               nn::Linear(o.hidden, 1));
  impl->critic = nn::Sequential(nn::Linear(o.context, o.hidden), nn::Tanh(),
                                nn::Linear(o.hidden, 1));
  impl->adam = std::make_unique<torch::optim::Adam>(
      impl->Parameters(), torch::optim::AdamOptions(o.learning_rate));
  return std::unique_ptr<PpoAgent>(new PpoAgent(std::move(impl)));
}

const PpoOptions& PpoAgent::options() const { return impl_->options; }
int PpoAgent::recorded() const {
  return static_cast<int>(impl_->decisions.size());
}

absl::StatusOr<PpoAgent::Decision> PpoAgent::Act(
    const std::vector<float>& context, const std::vector<float>& candidates,
    bool deterministic, uint64_t draw) const {
  const PpoOptions& o = impl_->options;
  const int64_t n = static_cast<int64_t>(candidates.size()) / o.features;
  if (static_cast<int>(context.size()) != o.context || n < 1 ||
      static_cast<int64_t>(candidates.size()) != n * o.features) {
    return absl::InvalidArgumentError(
        absl::StrCat("ppo: context of ", context.size(), " values (expected ",
                     o.context, "), candidates of ", candidates.size(),
                     " (a multiple of ", o.features, " expected)"));
  }
  torch::NoGradGuard no_grad;
  Decision d;
  d.context = context;
  d.candidates = candidates;
  torch::Tensor x = torch::from_blob(const_cast<float*>(candidates.data()),
                                     {n, o.features}, torch::kFloat32);
  torch::Tensor logp = torch::log_softmax(impl_->Logits(x), 0).contiguous();
  const float* lp = logp.data_ptr<float>();
  if (deterministic) {
    for (int64_t i = 1; i < n; ++i) {
      if (lp[i] > lp[d.choice]) d.choice = static_cast<int>(i);
    }
  } else {
    std::vector<double> p(n);
    for (int64_t i = 0; i < n; ++i) p[i] = std::exp(lp[i]);
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull ^ draw);
    d.choice = std::discrete_distribution<int>(p.begin(), p.end())(rng);
  }
  d.log_prob = lp[d.choice];
  torch::Tensor c = torch::from_blob(const_cast<float*>(context.data()),
                                     {1, o.context}, torch::kFloat32);
  d.value = impl_->critic->forward(c).item<double>();
  return d;
}

void PpoAgent::Record(const Decision& decision, double reward) {
  impl_->decisions.push_back(decision);
  impl_->rewards.push_back(reward);
}

void PpoAgent::Impl::UpdateOnce() {
  const PpoOptions& o = options;
  const int64_t n = static_cast<int64_t>(decisions.size());
  int64_t k = 1;
  for (const Decision& d : decisions) {
    k = std::max<int64_t>(k, d.candidates.size() / o.features);
  }
  // Candidates padded to k per decision, the padding masked out.
  std::vector<float> x(n * k * o.features, 0.f), ctx, old, values, reward;
  std::vector<uint8_t> valid(n * k, 0);
  std::vector<int64_t> choice;
  for (int64_t i = 0; i < n; ++i) {
    const Decision& d = decisions[i];
    std::copy(d.candidates.begin(), d.candidates.end(),
              x.begin() + i * k * o.features);
    std::fill_n(valid.begin() + i * k, d.candidates.size() / o.features, 1);
    ctx.insert(ctx.end(), d.context.begin(), d.context.end());
    choice.push_back(d.choice);
    old.push_back(static_cast<float>(d.log_prob));
    values.push_back(static_cast<float>(d.value));
    reward.push_back(static_cast<float>(rewards[i]));
  }
  torch::Tensor X = torch::tensor(x).view({n, k, o.features});
  torch::Tensor M = torch::tensor(valid).view({n, k}).to(torch::kBool);
  torch::Tensor C = torch::tensor(ctx).view({n, o.context});
  torch::Tensor A = torch::tensor(choice).view({n, 1});
  torch::Tensor R = torch::tensor(reward);
  torch::Tensor adv = R - torch::tensor(values);
  if (n > 1) adv = (adv - adv.mean()) / (adv.std() + 1e-8);
  torch::Tensor old_logp = torch::tensor(old);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    torch::Tensor logits = Logits(X).masked_fill(~M, -1e9);
    torch::Tensor logp = torch::log_softmax(logits, 1);
    torch::Tensor ratio = (logp.gather(1, A).squeeze(1) - old_logp).exp();
    torch::Tensor surrogate =
        torch::min(ratio * adv, ratio.clamp(1 - o.clip, 1 + o.clip) * adv);
    torch::Tensor entropy =
        -(logp.exp() * logp).masked_fill(~M, 0).sum(1).mean();
    torch::Tensor value_loss = (critic->forward(C).squeeze(1) - R).pow(2);
    torch::Tensor loss =
        -surrogate.mean() + 0.5 * value_loss.mean() - o.entropy * entropy;
    adam->zero_grad();
    loss.backward();
    adam->step();
  }
}

absl::Status PpoAgent::Update() {
  if (impl_->decisions.empty()) return absl::OkStatus();
  try {
    impl_->UpdateOnce();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("ppo update: ", e.what()));
  }
  impl_->decisions.clear();
  impl_->rewards.clear();
  return absl::OkStatus();
}

nlohmann::json PpoAgent::DecisionToJson(const Decision& d) {
  return {{"context", d.context},
          {"candidates", d.candidates},
          {"choice", d.choice},
          {"log_prob", d.log_prob},
          {"value", d.value}};
}

bool PpoAgent::DecisionFromJson(const nlohmann::json& j, const PpoOptions& o,
                                Decision* d) {
  if (!j.is_object() ||
      !FloatsFromJson(j.value("context", nlohmann::json()), &d->context) ||
      !FloatsFromJson(j.value("candidates", nlohmann::json()),
                      &d->candidates) ||
      !j.value("choice", nlohmann::json()).is_number_integer() ||
      !j.value("log_prob", nlohmann::json()).is_number() ||
      !j.value("value", nlohmann::json()).is_number()) {
    return false;
  }
  const size_t n = d->candidates.size() / o.features;
  d->choice = j["choice"].get<int>();
  d->log_prob = j["log_prob"].get<double>();
  d->value = j["value"].get<double>();
  return static_cast<int>(d->context.size()) == o.context && n >= 1 &&
         d->candidates.size() == n * o.features && d->choice >= 0 &&
         static_cast<size_t>(d->choice) < n;
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
  nlohmann::json decisions = nlohmann::json::array();
  for (const Decision& d : m.decisions) decisions.push_back(DecisionToJson(d));
  out->values[key] = {{"adam_steps", adam_steps},
                      {"decisions", decisions},
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
  const nlohmann::json decisions = v.value("decisions", nlohmann::json());
  const nlohmann::json rewards = v.value("rewards", nlohmann::json());
  if (!adam_steps.is_array() || adam_steps.size() != params.size() ||
      !decisions.is_array() || !rewards.is_array() ||
      rewards.size() != decisions.size()) {
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
  std::vector<Decision> recorded(decisions.size());
  std::vector<double> rewarded;
  for (size_t i = 0; i < decisions.size(); ++i) {
    if (!DecisionFromJson(decisions[i], m.options, &recorded[i]) ||
        !rewards[i].is_number()) {
      return bad("recorded decisions");
    }
    rewarded.push_back(rewards[i].get<double>());
  }
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
  m.decisions = std::move(recorded);
  m.rewards = std::move(rewarded);
  return absl::OkStatus();
}

absl::Status PpoAgent::Save(const std::string& path,
                            const nlohmann::json& about) const {
  std::vector<TensorSpec> specs;
  std::vector<torch::Tensor> tensors;
  for (const nn::Sequential* net : {&impl_->actor, &impl_->critic}) {
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
  RunState header;
  header.values = {{"format", kFormat},
                   {"version", kVersion},
                   {"options", OptionsToJson(impl_->options)},
                   {"about", about}};
  return WriteFileAtomically(path, EncodeCheckpoint(0, w, header));
}

absl::StatusOr<std::unique_ptr<PpoAgent>> PpoAgent::Load(
    const std::string& path, nlohmann::json* about) {
  auto fail = [&path](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy file ", path, ": ", what));
  };
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  RunState header;
  auto w = DecodeCheckpoint(*bytes, nullptr, &header);
  if (!w.ok()) return fail(w.status().message());
  const nlohmann::json& h = header.values;
  if (h.value("format", "") != kFormat) return fail("not a ppo policy file");
  if (h.value("version", 0) != kVersion) {
    return fail(absl::StrCat("format version ", h.value("version", 0),
                             ", this program reads ", kVersion,
                             " (retrain it with tandem-sim --train_policy)"));
  }
  auto options = OptionsFromJson(h.value("options", nlohmann::json()));
  if (!options.ok()) return fail(options.status().message());
  auto agent = Create(*options);
  if (!agent.ok()) return fail(agent.status().message());
  torch::NoGradGuard no_grad;
  int i = 0;
  for (nn::Sequential* net :
       {&(*agent)->impl_->actor, &(*agent)->impl_->critic}) {
    for (auto& p : (*net)->named_parameters()) {
      if (i >= static_cast<int>(w->layout().tensors().size()) ||
          w->layout().tensors()[i].shape != p.value().sizes().vec()) {
        return fail("weights do not match its options");
      }
      auto src = w->tensor(i++);
      p.value().copy_(torch::from_blob(const_cast<float*>(src.data()),
                                       p.value().sizes(), torch::kFloat32));
    }
  }
  if (i != static_cast<int>(w->layout().tensors().size())) {
    return fail("weights do not match its options");
  }
  if (about != nullptr) *about = h.value("about", nlohmann::json());
  return agent;
}

}  // namespace tandem::offload
