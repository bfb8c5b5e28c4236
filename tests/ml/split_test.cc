// Split learning is exact: for every model and every legal split point,
// training the head on the device and the tail on the coordinator (fp32)
// gives the same parameters and batch-norm statistics as training the whole
// model.
#include "ml/split.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/tensor_codec.h"
#include "gtest/gtest.h"
#include "ml/aux_classifier.h"
#include "ml/runtime.h"
#include "ml/split_weights.h"
#include "tests/ml/torchscript_files.h"

namespace tandem::ml {
namespace {

// Hands activations straight to a TailTrainer, as the coordinator would.
class DirectTransport : public SplitTransport {
 public:
  explicit DirectTransport(TailTrainer* tail) : tail_(tail) {}
  absl::StatusOr<SplitTensor> Exchange(int64_t, const SplitTensor& act,
                                       const std::vector<int64_t>& labels,
                                       double* loss) override {
    return tail_->Step(act, labels, loss);
  }

 private:
  TailTrainer* tail_;
};

// Sends activations and gradients through the wire codec, as a device and
// the coordinator do, and counts the bytes.
class CodecTransport : public SplitTransport {
 public:
  CodecTransport(TailTrainer* tail, ActivationCodec codec)
      : tail_(tail), codec_(codec) {}
  absl::StatusOr<SplitTensor> Exchange(int64_t, const SplitTensor& act,
                                       const std::vector<int64_t>& labels,
                                       double* loss) override {
    SplitTensor sent = Wire(act);
    auto grad = tail_->Step(sent, labels, loss);
    if (!grad.ok()) return grad.status();
    losses.push_back(*loss);
    return Wire(*grad);
  }
  std::vector<double> losses;
  int64_t bytes = 0;

 private:
  SplitTensor Wire(const SplitTensor& c) {
    v1::Tensor t;
    EncodeTensor(c.shape, c.values, codec_, &t);
    bytes += static_cast<int64_t>(t.data().size());
    DecodedTensor d = DecodeTensor(t, 1 << 26).value();
    return {d.shape, d.values};
  }
  TailTrainer* tail_;
  ActivationCodec codec_;
};

data::TrainTest Synthetic(const InputShape& in) {
  data::DataSource s;
  s.kind = "synthetic";
  s.synthetic_train = 64;
  s.synthetic_test = 10;
  s.channels = in.channels;
  s.height = in.height;
  s.width = in.width;
  return data::LoadDataset(s).value();
}

// Largest |a - b| over two weights of one layout; NaN when either holds a
// NaN (std::max would drop it and let NaN weights pass).
double MaxDifference(const Weights& a, const Weights& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(a.values()[i] - b.values()[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

struct Case {
  // A zoo name, or "torchscript-<model>": tandem_models.py's model saved as
  // TorchScript (tests/ml/torchscript_files.h).
  std::string model;
  InputShape input;
  std::string Name() const {
    if (model.rfind("torchscript-", 0) != 0) return model;
    return TorchScriptModelName(test_models::TorchScriptModelFile(
        model.substr(strlen("torchscript-"))));
  }
};

class SplitExactnessTest : public testing::TestWithParam<Case> {};

TEST_P(SplitExactnessTest, SplitStepsEqualUnsplitSteps) {
  SetComputeThreads(1);
  const Case& c = GetParam();
  data::TrainTest tt = Synthetic(c.input);
  TrainOptions o;
  o.batch_size = 16;
  o.max_batches = 3;
  o.learning_rate = 0.05;
  o.momentum = 0.9;
  o.weight_decay = 1e-4;
  const std::string name = c.Name();
  auto whole = Model::Create(name, c.input, 11).value();
  const Weights global = whole->GetWeights();
  ASSERT_TRUE(TrainLocal(*whole, tt.train, o).ok());
  const Weights expected = whole->GetWeights();
  for (int split = 1; split < whole->num_stages(); ++split) {
    SCOPED_TRACE("split " + std::to_string(split));
    auto head = Model::Create(name, c.input, 99).value();
    ASSERT_TRUE(head->SetWeights(global).ok());
    auto tail = TailTrainer::Create(name, c.input, split, global, o).value();
    DirectTransport transport(tail.get());
    auto stats = TrainHead(*head, split, tt.train, o, transport);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(tail->steps(), 3);
    Weights joined = head->GetWeights();
    ASSERT_TRUE(MergeStages(tail->TailWeights(), &joined).ok());
    // Same arithmetic: the head's and the tail's forward and backward run
    // the whole model's kernels on the same shapes, one thread, and SGD
    // updates each parameter alone; fp32 activations and gradients cross
    // unchanged. So bit for bit, under any BLAS kernel.
    EXPECT_EQ(MaxDifference(joined, expected), 0);
    // And the step really moved the weights.
    EXPECT_GT(MaxDifference(joined, global), 1e-3);
  }
}

// Records what a local-loss head hands its stream.
class RecordingSink : public ActivationSink {
 public:
  absl::Status Send(int64_t step, SplitTensor act, std::vector<int64_t> labels,
                    double cpu_s) override {
    EXPECT_EQ(step, static_cast<int64_t>(batches.size()));
    EXPECT_GE(cpu_s, 0);
    batches.push_back({std::move(act), std::move(labels)});
    return absl::OkStatus();
  }
  std::vector<std::pair<SplitTensor, std::vector<int64_t>>> batches;
};

TEST_P(SplitExactnessTest, LocalLossTrainsTheHeadAndItsClassifierOnly) {
  SetComputeThreads(1);
  const Case& c = GetParam();
  data::TrainTest tt = Synthetic(c.input);
  TrainOptions o;
  o.batch_size = 16;
  o.max_batches = 3;
  for (int split = 1; split + 1 < 8; ++split) {
    auto model = Model::Create(c.Name(), c.input, 11).value();
    if (split >= model->num_stages()) break;
    SCOPED_TRACE("split " + std::to_string(split));
    const Weights before = model->GetWeights();
    std::vector<float> aux = InitAux(*model, split, 3);
    const std::vector<float> aux_before = aux;
    RecordingSink sink;
    auto stats = TrainHeadLocalLoss(*model, split, &aux, tt.train, o, sink);
    ASSERT_TRUE(stats.ok()) << stats.status();
    ASSERT_EQ(sink.batches.size(), 3u);
    std::vector<int64_t> shape = {16};
    for (int64_t d : SplitShape(*model, split)) shape.push_back(d);
    EXPECT_EQ(sink.batches[0].first.shape, shape);
    EXPECT_EQ(sink.batches[0].second.size(), 16u);
    const Weights after = model->GetWeights();
    const int stages = model->num_stages();
    EXPECT_GT(MaxDifference(SliceStages(after, 0, split),
                            SliceStages(before, 0, split)),
              1e-4);
    EXPECT_EQ(MaxDifference(SliceStages(after, split, stages),
                            SliceStages(before, split, stages)),
              0);  // the tail is the coordinator's
    EXPECT_NE(aux, aux_before);
    // A classifier of another split point's size is refused.
    std::vector<float> wrong(aux.size() + 1);
    EXPECT_EQ(TrainHeadLocalLoss(*model, split, &wrong, tt.train, o, sink)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(TailTrainerTest, FitStepsLikeStepWithoutTheGradient) {
  SetComputeThreads(1);
  const InputShape in{1, 28, 28, 10};
  auto model = Model::Create("cnn", in, 5).value();
  const Weights global = model->GetWeights();
  TrainOptions o;
  auto a = TailTrainer::Create("cnn", in, 2, global, o).value();
  auto b = TailTrainer::Create("cnn", in, 2, global, o).value();
  SplitTensor act{{4, 32, 7, 7}, std::vector<float>(4 * 32 * 49)};
  for (size_t i = 0; i < act.values.size(); ++i) {
    act.values[i] = static_cast<float>(i % 13) / 13.0f;
  }
  const std::vector<int64_t> labels = {1, 2, 3, 4};
  double loss = 0;
  ASSERT_TRUE(a->Step(act, labels, &loss).ok());
  auto fit = b->Fit(act, labels);
  ASSERT_TRUE(fit.ok());
  EXPECT_DOUBLE_EQ(*fit, loss);
  EXPECT_EQ(MaxDifference(a->TailWeights(), b->TailWeights()), 0);
  EXPECT_GT(MaxDifference(a->TailWeights(), SliceStages(global, 2, 4)), 0);
  EXPECT_EQ(b->Fit(act, {1, 2, 3}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, SplitExactnessTest,
    testing::Values(Case{"mlp", {1, 28, 28, 10}}, Case{"cnn", {1, 28, 28, 10}},
                    Case{"vgg5", {1, 28, 28, 10}},
                    Case{"vgg5", {3, 32, 32, 10}},
                    Case{"torchscript-vgg5", {1, 28, 28, 10}}),
    [](const testing::TestParamInfo<Case>& info) {
      std::string name = info.param.model;
      std::replace(name.begin(), name.end(), '-', '_');
      return name + std::to_string(info.param.input.channels);
    });

TEST(SplitCodecTest, TrainingWithInt8ActivationsStillLearns) {
  SetComputeThreads(1);
  InputShape in{1, 28, 28, 10};
  data::DataSource src;
  src.kind = "synthetic";
  src.synthetic_train = 400;
  data::Dataset train = data::LoadDataset(src).value().train;
  TrainOptions o;
  o.batch_size = 20;
  o.max_batches = 20;
  o.learning_rate = 0.05;
  auto make = [&](ActivationCodec codec, int64_t* bytes) {
    auto head = Model::Create("cnn", in, 5).value();
    auto tail =
        TailTrainer::Create("cnn", in, 2, head->GetWeights(), o).value();
    CodecTransport t(tail.get(), codec);
    EXPECT_TRUE(TrainHead(*head, 2, train, o, t).ok());
    *bytes = t.bytes;
    return t.losses;
  };
  int64_t fp32_bytes, int8_bytes;
  std::vector<double> fp32 = make(ActivationCodec::kFp32, &fp32_bytes);
  std::vector<double> int8 = make(ActivationCodec::kInt8, &int8_bytes);
  ASSERT_EQ(int8.size(), 20u);
  auto mean = [](const std::vector<double>& v, size_t a, size_t b) {
    double s = 0;
    for (size_t i = a; i < b; ++i) s += v[i];
    return s / static_cast<double>(b - a);
  };
  // Loss falls over the batches, and ends close to the exact (fp32) run.
  EXPECT_LT(mean(int8, 15, 20), 0.5 * mean(int8, 0, 5));
  EXPECT_NEAR(mean(int8, 15, 20), mean(fp32, 15, 20), 0.15);
  EXPECT_EQ(int8_bytes * 4, fp32_bytes);
}

TEST(TailTrainerTest, RejectsWrongShapesAndLabels) {
  InputShape in{1, 28, 28, 10};
  auto model = Model::Create("cnn", in, 1).value();
  auto tail =
      TailTrainer::Create("cnn", in, 2, model->GetWeights(), TrainOptions())
          .value();
  EXPECT_EQ(tail->split_shape(), (std::vector<int64_t>{32, 7, 7}));
  double loss;
  SplitTensor act{{4, 32, 7, 7}, std::vector<float>(4 * 32 * 49, 0.1f)};
  EXPECT_TRUE(tail->Step(act, {0, 1, 2, 3}, &loss).ok());
  EXPECT_FALSE(tail->Step(act, {0, 1, 2}, &loss).ok());      // batch size
  EXPECT_FALSE(tail->Step(act, {0, 1, 2, 10}, &loss).ok());  // label
  SplitTensor wrong{{4, 16, 7, 7}, std::vector<float>(4 * 16 * 49, 0.f)};
  EXPECT_FALSE(tail->Step(wrong, {0, 1, 2, 3}, &loss).ok());  // shape
  act.values.pop_back();
  EXPECT_FALSE(tail->Step(act, {0, 1, 2, 3}, &loss).ok());  // size
  EXPECT_EQ(tail->steps(), 1);
  EXPECT_FALSE(TailTrainer::Create("cnn", in, 4, model->GetWeights(),
                                   TrainOptions())
                   .ok());  // 4 stages: no split point at 4
}

TEST(SplitWeightsTest, SliceAndMerge) {
  auto model = Model::Create("vgg5", {1, 28, 28, 10}, 1).value();
  Weights full = model->GetWeights();
  Weights head = SliceStages(full, 0, 3);
  Weights tail = SliceStages(full, 3, 7);
  EXPECT_EQ(head.size() + tail.size(), full.size());
  for (const TensorSpec& t : head.layout().tensors()) {
    EXPECT_LT(StageOf(t.name), 3);
  }
  for (float& v : head.values()) v = 5.0f;
  ASSERT_TRUE(MergeStages(head, &full).ok());
  EXPECT_EQ(full.values()[0], 5.0f);
  EXPECT_EQ(StageOf("s12.fc.weight"), 12);
  EXPECT_EQ(StageOf("fc.weight"), -1);
}

}  // namespace
}  // namespace tandem::ml
