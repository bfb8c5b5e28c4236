#include "core/pipeline_schedule.h"

#include <algorithm>

namespace tandem {

PipelineSchedule::PipelineSchedule(int window, double latency_s)
    : window_(std::max(1, window)), latency_s_(latency_s) {}

double PipelineSchedule::AddBatch(double compute_s, double upload_s) {
  return AddBatch(compute_s, [upload_s](double) { return upload_s; });
}

double PipelineSchedule::AddBatch(
    double compute_s, const std::function<double(double start)>& upload_at) {
  double start = compute_end_;
  if (static_cast<int>(in_flight_.size()) == window_) {
    start = std::max(start, in_flight_.front());  // back-pressure
    in_flight_.pop_front();
  }
  compute_end_ = start + compute_s;
  const double upload_start = std::max(upload_end_, compute_end_);
  const double upload_s = upload_at(upload_start);
  upload_end_ = upload_start + upload_s;
  in_flight_.push_back(upload_end_);
  compute_s_ += compute_s;
  upload_s_ += upload_s;
  ++batches_;
  return upload_end_ + latency_s_;
}

double PipelineSchedule::AddTail(double arrival_s, double tail_s) {
  tail_end_ = std::max(tail_end_, arrival_s) + tail_s;
  return tail_end_;
}

}  // namespace tandem
