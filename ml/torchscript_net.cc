// Models authored in PyTorch: a module saved with
// torch.jit.script(model).save(path), loaded with LibTorch.
//
// Stages: the children of the module's `stages` submodule when it has one
// (an nn.ModuleList or nn.Sequential), otherwise the module's own children,
// in registration order; so an nn.Sequential of nn.Sequential blocks works as
// it is. The stages chained must compute the module's forward (checked at
// load on a random batch). Split points lie between stages. Tensor names are
// "s<i>.<name inside stage i>", parameters then buffers of each submodule,
// as the zoo's.
//
// TorchScript runs on LibTorch's graph interpreter with the optimising
// passes off (torch::jit::setGraphExecutorOptimize(false)): every call runs
// the same ATen kernels as eager C++, so results do not change after the
// executor's first profiled runs and equal the zoo's for the same layers.
//
// One layer is replaced: an nn.MaxPool2d of kernel 2, stride 2, no padding
// nor dilation, floor mode and no indices runs the zoo's 2x2 max pool
// (ml/internal/max_pool.h: the same values, chosen indices and gradient as
// LibTorch's, 3-4x faster forward) as the op tandem::max_pool2x2. Without
// it a TorchScript VGG-5's pooling stages took 15.1 and 7.8 ms per 100
// examples against the zoo's 4.2 and 3.8, which moved the cost model's
// split points.
#include <sys/stat.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "ml/internal/max_pool.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {
namespace {

using torch::jit::Module;

// An exception's message; LibTorch's without its C++ backtrace.
std::string ErrorText(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
    return c10->what_without_backtrace();
  }
  return e.what();
}

// The zoo's 2x2 max pool for float32 [N, C, H, W]; LibTorch's otherwise.
torch::Tensor MaxPool2x2Op(const torch::Tensor& input) {
  if (input.dim() == 4 && input.scalar_type() == torch::kFloat32) {
    return MaxPool2x2Impl().forward(input);
  }
  return at::max_pool2d(input, {2, 2});
}

TORCH_LIBRARY(tandem, m) {
  m.def("max_pool2x2(Tensor input) -> Tensor", MaxPool2x2Op);
}

// A constant of nn.MaxPool2d that is `want` as an int or as [want, want]
// (stride may also be None: the kernel size).
bool PoolConstantIs(const c10::ClassTypePtr& type, const std::string& name,
                    int64_t want) {
  c10::optional<c10::IValue> v = type->findConstant(name);
  if (!v) return false;
  if (v->isInt()) return v->toInt() == want;
  if (v->isIntList()) {
    for (int64_t d : v->toIntVector()) {
      if (d != want) return false;
    }
    return true;
  }
  if (v->isTuple()) {
    for (const c10::IValue& d : v->toTupleRef().elements()) {
      if (!d.isInt() || d.toInt() != want) return false;
    }
    return true;
  }
  return name == "stride" && v->isNone();  // None: the kernel size
}

bool IsPlain2x2MaxPool(const Module& m) {
  const c10::ClassTypePtr& type = m.type();
  // "__torch__.torch.nn.modules.pooling[.___torch_mangle_N].MaxPool2d"
  const std::string name = type->name()->qualifiedName();
  if (name.rfind("__torch__.torch.nn.modules.pooling.", 0) != 0 ||
      !absl::EndsWith(name, ".MaxPool2d")) {
    return false;
  }
  auto is_false = [&type](const char* name) {
    c10::optional<c10::IValue> v = type->findConstant(name);
    return v && v->isBool() && !v->toBool();
  };
  return PoolConstantIs(type, "kernel_size", 2) &&
         PoolConstantIs(type, "stride", 2) &&
         PoolConstantIs(type, "padding", 0) &&
         PoolConstantIs(type, "dilation", 1) && is_false("ceil_mode") &&
         is_false("return_indices");
}

// Points every plain 2x2 nn.MaxPool2d of `module` at tandem::max_pool2x2:
// its forward graph returns that op's result on its input instead. Modules
// of one class share their type and method, so each is changed once.
void UseZooMaxPool(const Module& module) {
  std::vector<const torch::jit::Function*> done;
  for (const Module& m : module.modules()) {
    if (!IsPlain2x2MaxPool(m)) continue;
    torch::jit::Function& forward = m.get_method("forward").function();
    if (std::find(done.begin(), done.end(), &forward) != done.end()) continue;
    std::shared_ptr<torch::jit::Graph> graph =
        torch::jit::toGraphFunction(forward).graph();
    torch::jit::WithInsertPoint at(graph->return_node());
    torch::jit::Node* pool = graph->insertNode(
        graph->create(c10::Symbol::fromQualString("tandem::max_pool2x2"),
                      {graph->inputs()[1]}));
    pool->output()->setType(c10::TensorType::get());
    torch::jit::Value* was = graph->return_node()->input(0);
    graph->return_node()->replaceInput(0, pool->output());
    // The call to F.max_pool2d: dead code elimination keeps calls, which
    // may have side effects.
    if (!was->hasUses()) was->node()->destroy();
    torch::jit::EliminateDeadCode(graph);
    done.push_back(&forward);
  }
}

void Collect(const Module& m, const std::string& prefix,
             std::vector<NamedTensor>* out) {
  for (const auto& p : m.named_parameters(/*recurse=*/false)) {
    out->push_back({prefix + p.name, p.value, false});
  }
  for (const auto& b : m.named_buffers(/*recurse=*/false)) {
    out->push_back({prefix + b.name, b.value, true});
  }
  for (const auto& child : m.named_children()) {
    Collect(child.value, prefix + child.name + ".", out);
  }
}

class ScriptNet final : public StageNet {
 public:
  // `file`: where `module` was loaded from (for SaveForPyTorch).
  ScriptNet(std::string file, Module module, std::vector<Module> stages)
      : file_(std::move(file)),
        module_(std::move(module)),
        stages_(std::move(stages)) {}

  int num_stages() const override { return static_cast<int>(stages_.size()); }
  torch::Tensor Forward(torch::Tensor x, int begin, int end) override {
    for (int i = begin; i < end; ++i) {
      x = stages_[i].forward({x}).toTensor();
    }
    return x;
  }
  std::vector<torch::Tensor> Parameters(int begin, int end) override {
    std::vector<torch::Tensor> params;
    for (int s = begin; s < end; ++s) {
      for (const torch::Tensor& p : stages_[s].parameters(/*recurse=*/true)) {
        params.push_back(p);
      }
    }
    return params;
  }
  void SetTraining(bool on) override { module_.train(on); }
  std::vector<NamedTensor> Tensors() override {
    std::vector<NamedTensor> out;
    for (size_t s = 0; s < stages_.size(); ++s) {
      Collect(stages_[s], absl::StrCat("s", s, "."), &out);
    }
    return out;
  }
  // The file's module as it was authored (without tandem::max_pool2x2, so
  // that PyTorch loads it) with this model's current tensors.
  void SaveForPyTorch(const std::string& path,
                      const std::vector<std::string>&) override {
    torch::NoGradGuard no_grad;
    Module out = torch::jit::load(file_);
    std::map<std::string, torch::Tensor> ours;
    for (const auto& p : module_.named_parameters()) ours[p.name] = p.value;
    for (const auto& b : module_.named_buffers()) ours[b.name] = b.value;
    auto copy = [&ours, this](const std::string& name, torch::Tensor t) {
      auto it = ours.find(name);
      if (it == ours.end() || !it->second.sizes().equals(t.sizes())) {
        throw std::runtime_error(
            file_ + " changed since it was loaded: " + name + " does not fit");
      }
      t.copy_(it->second);
    };
    for (const auto& p : out.named_parameters()) copy(p.name, p.value);
    for (const auto& b : out.named_buffers()) copy(b.name, b.value);
    out.save(path);
  }
  Module& module() { return module_; }

 private:
  std::string file_;
  Module module_;
  std::vector<Module> stages_;
};

// The stages of `module` and their names, as the file comment says.
std::vector<std::pair<std::string, Module>> StagesOf(const Module& module) {
  Module holder = module;
  if (module.hasattr("stages") && module.attr("stages").isModule()) {
    holder = module.attr("stages").toModule();
  }
  std::vector<std::pair<std::string, Module>> out;
  for (const auto& child : holder.named_children()) {
    out.emplace_back(child.name, child.value);
  }
  return out;
}

// Loaded files by path, keyed also by size and modification time so that a
// replaced file is read again; each model gets a deep copy.
struct LoadedFile {
  int64_t size = 0, mtime_ns = 0;
  Module module;
};

absl::StatusOr<Module> LoadCopy(const std::string& path) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* const loaded = new std::map<std::string, LoadedFile>();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("model file ", path, ": ", std::strerror(errno)));
  }
  const int64_t mtime_ns =
      int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  absl::MutexLock lock(&mu);
  torch::jit::setGraphExecutorOptimize(false);
  LoadedFile& f = (*loaded)[path];
  if (f.size != st.st_size || f.mtime_ns != mtime_ns) {
    try {
      f.module = torch::jit::load(path);
      UseZooMaxPool(f.module);
    } catch (const std::exception& e) {
      loaded->erase(path);
      return absl::InvalidArgumentError(
          absl::StrCat("model file ", path,
                       " is not a TorchScript module saved by "
                       "torch.jit.script(model).save(): ",
                       ErrorText(e)));
    }
    f.size = st.st_size;
    f.mtime_ns = mtime_ns;
  }
  // Under no_grad the copies are leaves (parameters an optimiser takes);
  // LoadTorchScriptNet makes them require gradients again.
  torch::NoGradGuard no_grad;
  return f.module.clone();
}

// InvalidArgument naming the file and the first tensor holding NaN or Inf.
absl::Status CheckFinite(const std::string& path,
                         const std::vector<NamedTensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (const NamedTensor& t : tensors) {
    if (t.tensor.is_floating_point() &&
        !torch::isfinite(t.tensor).all().item<bool>()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model file ", path, ": tensor ", t.name, " holds NaN or Inf"));
    }
  }
  return absl::OkStatus();
}

// The module's own forward must take the data's input, and equal its stages
// chained.
absl::Status CheckStagesChain(const std::string& path, ScriptNet& net,
                              const std::vector<std::string>& names,
                              const InputShape& input) {
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> shape = ExampleInput(input, 2).sizes().vec();
  auto gen = at::detail::createCPUGenerator(20261207);
  const torch::Tensor x = torch::randn(shape, gen);
  torch::Tensor chained = x;
  for (int s = 0; s < net.num_stages(); ++s) {
    try {
      chained = net.Forward(chained, s, s + 1);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model file ", path, ": stage ", s, " ('", names[s],
          "') does not "
          "take ",
          s == 0 ? absl::StrCat("the data's input (a batch of shape [",
                                absl::StrJoin(shape, ","), "])")
                 : "the output of the stage before it",
          ": ", ErrorText(e)));
    }
  }
  torch::Tensor whole;
  try {
    whole = net.module().forward({x}).toTensor();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("model file ", path,
                     ": its forward fails where its stages in order "
                     "do not: ",
                     ErrorText(e)));
  }
  if (!whole.sizes().equals(chained.sizes()) ||
      !torch::allclose(whole, chained, 1e-5, 1e-6)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model file ", path,
        ": its forward is not its stages in order (the "
        "children of `stages`, else of the module); write the model as an "
        "nn.Sequential of stages"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<StageNet>> LoadTorchScriptNet(
    const std::string& path, const InputShape& input,
    std::vector<std::string>* stage_names) {
  absl::StatusOr<Module> module = LoadCopy(path);
  if (!module.ok()) return module.status();
  std::vector<Module> stages;
  for (auto& [name, stage] : StagesOf(*module)) {
    if (!stage.find_method("forward")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model file ", path, ": stage '", name, "' has no forward"));
    }
    stage_names->push_back(name);
    stages.push_back(stage);
  }
  if (stages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model file ", path,
        ": no stages (the module has no children and no "
        "`stages` submodule); write the model as an nn.Sequential of stages"));
  }
  for (const torch::Tensor& p : module->parameters(/*recurse=*/true)) {
    p.requires_grad_(true);
  }
  auto net =
      std::make_unique<ScriptNet>(path, *std::move(module), std::move(stages));
  absl::Status finite = CheckFinite(path, net->Tensors());
  if (!finite.ok()) return finite;
  net->SetTraining(false);
  absl::Status chain = CheckStagesChain(path, *net, *stage_names, input);
  net->SetTraining(true);
  if (!chain.ok()) return chain;
  return std::unique_ptr<StageNet>(std::move(net));
}

}  // namespace tandem::ml
