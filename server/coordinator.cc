// Coordinator: set-up.
#include "server/coordinator.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/file_sha256.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "server/session_id.h"

namespace tandem::server {

Coordinator::Coordinator(CoordinatorOptions options)
    : options_(std::move(options)),
      config_(options_.config),
      clock_(*options_.clock),
      state_(config_, clock_) {}

Coordinator::~Coordinator() = default;

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options)));
  TANDEM_RETURN_IF_ERROR(c->Init());
  return c;
}

absl::Status Coordinator::Init() {
  start_s_ = Now();
  TANDEM_ASSIGN_OR_RETURN(
      state_.metrics, CoordinatorMetrics::Create(config_.server.metrics_listen,
                                                 RejectionReasons()));
  if (!config_.server.tokens_file.empty()) {
    TANDEM_ASSIGN_OR_RETURN(DeviceTokens tokens,
                            DeviceTokens::Load(config_.server.tokens_file));
    LogInfo(absl::StrCat("join tokens for ", tokens.size(), " devices from ",
                         config_.server.tokens_file));
    absl::MutexLock lock(&state_.mu);
    state_.tokens = std::make_shared<const DeviceTokens>(std::move(tokens));
  }
  TANDEM_ASSIGN_OR_RETURN(std::shared_ptr<const data::Dataset> test,
                          LoadData());
  TANDEM_ASSIGN_OR_RETURN(evaluator_, Evaluator::Create(config_, test));
  state_.num_classes = test->num_classes;
  state_.data_mean = test->mean;
  state_.data_std = test->std;
  check_ = std::make_unique<AggregateCheck>(
      config_,
      [e = evaluator_.get()](const Weights& w) { return e->Evaluate(w); });
  const ml::Model& model = evaluator_->model();
  state_.stages = model.num_stages();
  if (!config_.model.torchscript.empty()) {
    TANDEM_ASSIGN_OR_RETURN(state_.model_sha256,
                            FileSha256(config_.model.torchscript));
  }
  state_.virtual_time = options_.virtual_time;
  state_.device_timeout_s = options_.in_process_devices
                                ? std::numeric_limits<double>::infinity()
                                : config_.server.device_timeout_s;
  max_message_bytes_ = MaxMessageBytes(model, config_.training.batch_size);
  state_.tail_settings = {&config_, model.input(), state_.stages,
                          options_.compute_profile,
                          options_.tail_threads > 0 ? options_.tail_threads
                                                    : config_.server.threads};
  Weights global = model.GetWeights();
  ResumePoint resume;
  if (!config_.server.resume_from.empty()) {
    TANDEM_ASSIGN_OR_RETURN(resume,
                            LoadResumeCheckpoint(config_, global.layout()));
    global = std::move(resume.weights);
    first_round_ = resume.round + 1;
    LogInfo(absl::StrCat("resuming after round ", resume.round, " from ",
                         config_.server.resume_from));
  }
  StrategyOptions so;
  so.name = config_.strategy.name;
  so.params = config_.strategy.params;
  so.max_update_norm = config_.strategy.max_update_norm;
  if (config_.strategy.admission == Admission::kAdaptive) {
    so.admission_multiplier = config_.strategy.admission_multiplier;
  }
  so.seed = config_.seed;
  absl::MutexLock lock(&state_.mu);
  state_.admission.ReportTo(state_.metrics.get());
  if (options_.on_task) state_.pollers.SetListener(options_.on_task);
  state_.global = std::make_shared<const Weights>(std::move(global));
  TANDEM_ASSIGN_OR_RETURN(state_.strategy, CreateStrategy(so));
  // Over-selection leaves the surplus updates out at the round's close.
  if (config_.strategy.over_selection > 1) state_.strategy->AllowWithdraw();
  state_.aux = std::make_unique<AuxStore>(&model, config_.seed);
  if (config_.strategy.buffer_size > 0) {
    state_.flights = std::make_unique<Flights>(options_.virtual_time);
  }
  TANDEM_ASSIGN_OR_RETURN(
      state_.planner,
      OffloadPlanner::Create(config_, model.input(), state_.stages,
                             options_.compute_profile));
  TANDEM_ASSIGN_OR_RETURN(
      run_, RunWriter::Create(config_.output.dir, options_.run_name,
                              ConfigToJson(config_)));
  recorder_ =
      std::make_unique<RoundRecorder>(config_, run_.get(), options_.on_round);
  if (first_round_ > 1) {
    TANDEM_RETURN_IF_ERROR(RestoreRunStateLocked(resume.state));
    TANDEM_RETURN_IF_ERROR(
        run_->AppendMetrics({{"type", "resume"},
                             {"checkpoint", config_.server.resume_from},
                             {"round", first_round_ - 1}}));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const data::Dataset>> Coordinator::LoadData() {
  if (options_.test_set != nullptr) {
    if (options_.train_set != nullptr) {
      state_.sample_cap = SampleCap::ForTrainSet(config_, *options_.train_set);
    }
    return options_.test_set;
  }
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(config_)));
  state_.sample_cap = SampleCap::ForTrainSet(
      config_, options_.train_set != nullptr ? *options_.train_set : tt.train);
  return std::make_shared<const data::Dataset>(
      config_.data.test_limit > 0 ? tt.test.Head(config_.data.test_limit)
                                  : std::move(tt.test));
}

void Coordinator::Stop() {
  absl::MutexLock lock(&state_.mu);
  state_.stopping = true;
  state_.pollers.WakeAll();
}

}  // namespace tandem::server
