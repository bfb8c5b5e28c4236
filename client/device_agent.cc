#include "client/device_agent.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/backoff.h"
#include "client/measured_environment.h"
#include "client/rpc_util.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "ml/runtime.h"
#include "ml/split_weights.h"
#include "strategies/dp_fixed_clipping.h"

namespace tandem::client {
namespace {

DeviceAgentOptions WithDefaults(DeviceAgentOptions o) {
  if (o.environment == nullptr) {
    o.environment = std::make_unique<MeasuredEnvironment>();
  }
  if (o.clock == nullptr) o.clock = &RealClock();
  return o;
}

int64_t WeightsBytes(const Weights& w) { return w.layout().total_bytes(); }

}  // namespace

DeviceAgent::DeviceAgent(DeviceAgentOptions options,
                         std::shared_ptr<grpc::Channel> channel)
    : options_(WithDefaults(std::move(options))),
      clock_(*options_.clock),
      env_(*options_.environment),
      link_(options_, std::move(channel), &stop_),
      trainer_(options_, &env_, &link_, &stop_) {}

DeviceAgent::~DeviceAgent() = default;

void DeviceAgent::Describe() {
  profile_.set_device_class(options_.device_class);
  profile_.set_cores(ml::NumCores());
  env_.DescribeHardware(&profile_);
}

absl::Status DeviceAgent::Run() {
  Describe();
  link_.Start();
  Backoff backoff(options_.initial_backoff, options_.max_backoff,
                  options_.seed);
  absl::Status result;
  for (;;) {
    absl::StatusOr<bool> more = StepUntilDone(backoff);
    if (!more.ok()) result = more.status();
    if (!more.ok() || !*more) break;
  }
  if (stop_.requested() || result.ok()) {
    link_.Leave(stop_.requested() ? "stopped" : "done");
  }
  link_.Stop();
  return result;
}

absl::StatusOr<bool> DeviceAgent::Serve() {
  if (!described_) {
    Describe();
    described_ = true;
  }
  link_.StartGiveUpTimer();
  Backoff backoff(options_.initial_backoff, options_.max_backoff,
                  options_.seed);
  return StepUntilDone(backoff);
}

absl::StatusOr<bool> DeviceAgent::StepUntilDone(Backoff& backoff) {
  while (!stop_.requested()) {
    auto more = Step();
    if (more.ok()) {
      backoff.Reset();
      return *more;
    }
    if (stop_.requested()) break;
    if (absl::IsNotFound(more.status())) {  // coordinator forgot us: rejoin
      link_.Forget();
      continue;
    }
    if (!IsTransient(more.status())) return more.status();
    if (link_.ShouldGiveUp()) {
      return absl::UnavailableError(
          absl::StrCat("coordinator unreachable for ",
                       absl::FormatDuration(options_.give_up_after),
                       "; last error: ", more.status().message()));
    }
    LogWarning(absl::StrCat(options_.device_id, ": ", more.status().message(),
                            "; retrying"));
    link_.WaitToRetry(backoff);
  }
  return false;
}

absl::StatusOr<bool> DeviceAgent::Step() {
  TANDEM_RETURN_IF_ERROR(link_.EnsureJoined(profile_));
  // No data: nothing to do, fatal.
  TANDEM_RETURN_IF_ERROR(trainer_.PrepareData(link_.join_reply()));
  v1::PullTaskRequest pull;
  pull.set_last_round(last_round_);
  pull.set_no_wait(options_.dispatched);
  if (last_round_ < 0) *pull.mutable_timing() = trainer_.timing();
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Task> task, link_.PullTask(pull));
  switch (task->header.kind()) {
    case v1::TaskHeader::STOP:
      return false;
    case v1::TaskHeader::TRAIN:
      TANDEM_RETURN_IF_ERROR(TrainAndPush(*task));
      return true;
    default:
      return true;
  }
}

void DeviceAgent::AnnounceMinTime(const Task& task) {
  const v1::TrainingConfig& t = task.header.training();
  // At least every example but one per epoch (a last batch of one is
  // skipped); a batch cap leaves only the transfers certain.
  const int64_t examples =
      t.max_batches() > 0
          ? 0
          : t.local_epochs() * std::max<int64_t>(0, trainer_.examples() - 1);
  const double seconds = env_.MinRoundSeconds(
      task.header.round(), task.bytes_down, WeightsBytes(*task.weights),
      examples, task.header.num_stages());
  if (seconds > 0) {
    link_.Heartbeat(task.header.round(), v1::HeartbeatRequest::TRAINING, "",
                    seconds);
  }
}

void DeviceAgent::Abandon(int64_t round, absl::string_view why) {
  link_.Heartbeat(round, v1::HeartbeatRequest::ABANDONED, std::string(why));
}

absl::Status DeviceAgent::TrainAndPush(Task& task) {
  const int64_t round = task.header.round();
  link_.SetCurrentRound(round);
  absl::Cleanup idle = [this] { link_.SetCurrentRound(-1); };
  last_round_ = round;
  if (env_.AbandonsRound(round)) {
    Abandon(round, "simulated dropout");
    return absl::OkStatus();
  }
  const double start_s = task.header.virtual_start_s();
  if (!env_.OnlineThrough(start_s, 0)) {
    Abandon(round, "offline");
    return absl::OkStatus();
  }
  if (task.header.announce_min_time()) AnnounceMinTime(task);
  TANDEM_RETURN_IF_ERROR(trainer_.BuildModel());
  absl::Cleanup release = [this] { trainer_.ReleaseModel(); };
  std::unique_ptr<RoundAccounting> accounting = env_.BeginRound(round, start_s);
  absl::StatusOr<RoundWork> work = Train(task, *accounting);
  if (stop_.requested()) return absl::CancelledError("stopping");
  if (!work.ok()) {
    LogWarning(absl::StrCat(options_.device_id, ": round ", round, ": ",
                            work.status().message()));
    Abandon(round, work.status().message());
    return absl::OkStatus();
  }
  if (work->record.stages_run == trainer_.model().num_stages()) {
    env_.AlterUpdate(round, *task.weights, &work->update);
  }
  // Client-side DP clipping (of the head's change when offloading: the tail
  // is trained on the coordinator).
  if (task.header.training().clipping_norm() > 0) {
    TANDEM_RETURN_IF_ERROR(ClipUpdate(*task.weights, work->update,
                                      task.header.training().clipping_norm()));
  }
  v1::UpdateHeader header = HeaderFor(task, *work, *accounting);
  if (!env_.OnlineThrough(start_s, header.measurements().round_time_s())) {
    Abandon(round, "went offline during the round");
    return absl::OkStatus();
  }
  const int64_t pushed = work->record.weights_up;
  TANDEM_RETURN_IF_ERROR(link_.Push(work->update, std::move(header)));
  // What the next round's guard may judge the link by (client/link_judge.h).
  recent_link_ = Larger({work->split_bytes_up, work->record.write_s,
                         absl::StrCat("round ", round, "'s activation upload")},
                        {pushed, link_.last_upload_s(),
                         absl::StrCat("round ", round, "'s update upload")});
  rounds_trained_.fetch_add(1);
  return absl::OkStatus();
}

absl::StatusOr<RoundWork> DeviceAgent::Train(Task& task,
                                             RoundAccounting& accounting) {
  const int split = task.header.split_point();
  bool offload = split > 0 && split < task.header.num_stages();
  const bool whole = task.weights->layout() == trainer_.model().layout();
  if (offload && LinkBelowBreakEven(task, accounting)) {
    offload = false;
    if (!whole) TANDEM_RETURN_IF_ERROR(PullFullWeights(task));
  }
  if (!offload) return trainer_.TrainFull(task);
  absl::StatusOr<RoundWork> work =
      FromProto(task.header.split_mode()) == SplitMode::kLocalLoss
          ? trainer_.TrainLocalLoss(task, split, accounting)
          : trainer_.TrainSplit(task, split);
  if (!work.ok() && !stop_.requested() && task.header.fallback_local() &&
      whole) {
    LogWarning(absl::StrCat(options_.device_id, ": round ", task.header.round(),
                            ": split training failed (",
                            work.status().message(), "); training locally"));
    return trainer_.TrainFull(task);
  }
  return work;
}

absl::Status DeviceAgent::PullFullWeights(Task& task) {
  v1::PullTaskRequest pull;
  pull.set_last_round(last_round_);
  pull.set_full_weights(true);
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Task> tail, link_.PullTask(pull));
  if (tail->header.kind() != v1::TaskHeader::TRAIN ||
      tail->header.round() != task.header.round()) {
    return absl::UnavailableError("the rest of the model was not sent");
  }
  // Head (first download) and tail (this one) make the whole model.
  Weights full = trainer_.model().GetWeights();
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(*task.weights, &full));
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(*tail->weights, &full));
  task.weights = std::make_shared<const Weights>(std::move(full));
  task.bytes_down += tail->bytes_down;
  task.download_s += tail->download_s;
  task.downloads += 1;
  return absl::OkStatus();
}

bool DeviceAgent::LinkBelowBreakEven(const Task& task,
                                     const RoundAccounting& accounting) const {
  const double min_mbps = task.header.min_link_mbps();
  if (!(min_mbps > 0)) return false;
  std::string on;
  const double mbps =
      JudgedMbps({task.bytes_down, task.download_s, "the task download"},
                 recent_link_, accounting, &on);
  if (!(mbps > 0) || mbps >= min_mbps) return false;
  LogInfo(absl::StrFormat(
      "%s: round %d: link measured at %.1f Mbit/s on %s, below the %.1f "
      "Mbit/s at which split point %d pays off: training locally",
      options_.device_id, task.header.round(), mbps, on, min_mbps,
      task.header.split_point()));
  return true;
}

v1::UpdateHeader DeviceAgent::HeaderFor(const Task& task, RoundWork& work,
                                        RoundAccounting& accounting) {
  v1::UpdateHeader header;
  header.set_device_id(options_.device_id);
  header.set_round(task.header.round());
  header.set_num_samples(work.stats.samples);
  if (work.record.mode == SplitMode::kLocalLoss) {
    header.mutable_aux_weights()->Add(work.aux.begin(), work.aux.end());
  }
  LayoutToProto(work.update.layout(), header.mutable_layout());
  const ml::TrainStats& stats = work.stats;
  v1::Measurements* m = header.mutable_measurements();
  m->set_cpu_s(stats.cpu_seconds);
  m->set_train_loss(stats.mean_loss);
  m->set_loss_before(stats.loss_before);
  m->set_batches(stats.batches);
  const int64_t weights_up = WeightsBytes(work.update) +
                             static_cast<int64_t>(header.ByteSizeLong()) + 16;
  m->set_bytes_down(task.bytes_down + work.split_bytes_down);
  m->set_bytes_up(weights_up + work.split_bytes_up);
  RoundUsage& r = work.record;
  r.round = task.header.round();
  r.bytes_down = task.bytes_down;
  r.download_s = task.download_s;
  r.downloads = task.downloads;
  r.weights_up = weights_up;
  r.last_upload_s = link_.last_upload_s();
  r.examples_seen = stats.examples_seen;
  r.cpu_s = stats.cpu_seconds;
  r.wall_s = stats.wall_seconds;
  r.num_stages = trainer_.model().num_stages();
  accounting.Account(r, m);
  return header;
}

}  // namespace tandem::client
