#include "ml/profile_file.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "nlohmann/json.hpp"

namespace tandem::ml {
namespace {

absl::StatusOr<StageProfile> StageFrom(const nlohmann::json& j) {
  StageProfile s;
  s.name = j.at("name").get<std::string>();
  s.train_seconds_per_example = j.at("train_seconds_per_example");
  s.aux_seconds_per_example = j.at("aux_seconds_per_example");
  // Profiles before the whole-step measurement have no per-batch parts.
  s.train_seconds_per_batch = j.value("train_seconds_per_batch", 0.0);
  s.aux_seconds_per_batch = j.value("aux_seconds_per_batch", 0.0);
  s.out_elements = j.at("out_elements");
  s.param_bytes = j.at("param_bytes");
  s.aux_param_bytes = j.at("aux_param_bytes");
  for (double t : {s.train_seconds_per_example, s.aux_seconds_per_example,
                   s.train_seconds_per_batch, s.aux_seconds_per_batch}) {
    if (!(t >= 0 && t < 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stage '", s.name, "': seconds per example or batch out of [0, 1)"));
    }
  }
  if (s.out_elements < 1 || s.param_bytes < 0 || s.aux_param_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("stage '", s.name, "': sizes out of range"));
  }
  return s;
}

// The first difference between the file's stage sizes and the model's, or
// "" when there is none.
std::string SizeDifference(const std::vector<StageProfile>& file,
                           const std::vector<StageProfile>& model) {
  if (file.size() != model.size()) {
    return absl::StrCat(file.size(), " stages, the model has ", model.size());
  }
  for (size_t i = 0; i < file.size(); ++i) {
    const StageProfile& f = file[i];
    const StageProfile& m = model[i];
    if (f.out_elements != m.out_elements || f.param_bytes != m.param_bytes ||
        f.aux_param_bytes != m.aux_param_bytes) {
      return absl::StrCat(
          "stage ", i, " ('", f.name, "') has sizes ", f.out_elements, "/",
          f.param_bytes, "/", f.aux_param_bytes, ", the model's stage ", i,
          " ('", m.name, "') ", m.out_elements, "/", m.param_bytes, "/",
          m.aux_param_bytes, " (out_elements/param_bytes/aux_param_bytes)");
    }
  }
  return "";
}

// A profile fits the run's model when its input is the model's and its
// stages have the model's sizes; its model name need not match (a
// TorchScript VGG-5 uses the zoo's pinned vgg5 profile). The run's model
// name and stage names replace the file's.
absl::StatusOr<ModelProfile> Parse(const std::string& text,
                                   const ModelProfile& sizes,
                                   const InputShape& in) {
  const nlohmann::json j = nlohmann::json::parse(text);
  const std::vector<int> want = {in.channels, in.height, in.width,
                                 in.num_classes};
  if (j.at("input").get<std::vector<int>>() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("a profile of '", j.at("model").get<std::string>(),
                     "' for input ", j.at("input").dump(), ", the run trains '",
                     sizes.model, "' on ", nlohmann::json(want).dump()));
  }
  ModelProfile p;
  p.model = sizes.model;
  p.input_elements = sizes.input_elements;
  for (const nlohmann::json& s : j.at("stages")) {
    absl::StatusOr<StageProfile> st = StageFrom(s);
    if (!st.ok()) return st.status();
    p.stages.push_back(*std::move(st));
  }
  if (p.stages.empty()) return absl::InvalidArgumentError("no stages");
  const std::string diff = SizeDifference(p.stages, sizes.stages);
  if (!diff.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a profile of '", j.at("model").get<std::string>(),
                     "' does not fit '", sizes.model, "': ", diff));
  }
  for (size_t i = 0; i < p.stages.size(); ++i) {
    p.stages[i].name = sizes.stages[i].name;
  }
  return p;
}

}  // namespace

absl::StatusOr<ModelProfile> ReadProfile(const std::string& path,
                                         const std::string& model,
                                         const InputShape& input) {
  absl::StatusOr<ModelProfile> sizes = StageSizes(model, input);
  if (!sizes.ok()) return sizes.status();
  absl::StatusOr<std::string> text = ReadFile(path);
  absl::StatusOr<ModelProfile> p = absl::UnknownError("not read");
  if (!text.ok()) {
    p = text.status();
  } else {
    try {
      p = Parse(*text, *sizes, input);
    } catch (const nlohmann::json::exception& e) {
      p = absl::InvalidArgumentError(e.what());
    }
  }
  if (p.ok()) return p;
  return absl::InvalidArgumentError(absl::StrCat(
      "config: $.fleet.profile: ", path, ": ", p.status().message()));
}

absl::Status WriteProfile(const ModelProfile& profile, const InputShape& in,
                          const std::string& reference,
                          const std::string& path) {
  nlohmann::json stages = nlohmann::json::array();
  for (const StageProfile& s : profile.stages) {
    stages.push_back(
        {{"name", s.name},
         {"train_seconds_per_example", s.train_seconds_per_example},
         {"train_seconds_per_batch", s.train_seconds_per_batch},
         {"aux_seconds_per_example", s.aux_seconds_per_example},
         {"aux_seconds_per_batch", s.aux_seconds_per_batch},
         {"out_elements", s.out_elements},
         {"param_bytes", s.param_bytes},
         {"aux_param_bytes", s.aux_param_bytes}});
  }
  const nlohmann::json j = {
      {"model", profile.model},
      {"input", {in.channels, in.height, in.width, in.num_classes}},
      {"reference", reference},
      {"stages", stages}};
  return WriteFileAtomically(path, j.dump(2) + "\n");
}

}  // namespace tandem::ml
