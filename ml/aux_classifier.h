// The auxiliary classifier of split training on locally generated losses
// (offload.mode "local_loss", Han et al. 2021): a small classifier at a split
// point that gives the device's head a loss of its own, so the head never
// waits for the coordinator's gradient.
//
// Its form, for every model and split point, is owned here: an average pool
// of the feature map at the split point down to at most 4x4, then one linear
// layer to the classes (flat activations: the linear layer alone). Chosen by
// measured accuracy (README, "Split modes"): against a global-average-pool
// classifier it keeps the spatial layout the next convolutions see, at a
// cost of about 1% of the head's compute at VGG-5's cheapest split point.
//
// Its weights travel as a flat float vector (parameters in registration
// order) so the coordinator can average them without LibTorch.
//
//   std::vector<float> aux = InitAux(*model, split, seed);
#ifndef TANDEM_ML_AUX_CLASSIFIER_H_
#define TANDEM_ML_AUX_CLASSIFIER_H_

#include <cstdint>
#include <vector>

#include "ml/model.h"

namespace tandem::ml {

// The forms bench/split/aux_choice compares; the system uses kDefault.
//   kPool4: average pool to at most 4x4, then one linear layer
//   kPool2: average pool to at most 2x2, then one linear layer
//   kGlobal: global average pool, then one linear layer
//   kFlat: one linear layer on all activations
enum class AuxForm { kPool4, kPool2, kGlobal, kFlat };
inline constexpr AuxForm kDefaultAuxForm = AuxForm::kPool4;
const char* AuxFormName(AuxForm form);

// Floats in the auxiliary classifier at `split` (1 .. num_stages() - 1).
int64_t AuxSize(const Model& model, int split, AuxForm form = kDefaultAuxForm);

// Its initial weights, deterministic in `seed`.
std::vector<float> InitAux(const Model& model, int split, uint64_t seed,
                           AuxForm form = kDefaultAuxForm);

}  // namespace tandem::ml

#endif  // TANDEM_ML_AUX_CLASSIFIER_H_
