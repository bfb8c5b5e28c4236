// LibTorch side of the auxiliary classifier (ml/aux_classifier.h).
#ifndef TANDEM_ML_INTERNAL_AUX_NET_H_
#define TANDEM_ML_INTERNAL_AUX_NET_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "ml/aux_classifier.h"

namespace tandem::ml {

// The classifier for per-example activations of shape `split_shape`.
torch::nn::Sequential MakeAuxNet(const std::vector<int64_t>& split_shape,
                                 int num_classes,
                                 AuxForm form = kDefaultAuxForm);

// Flat copies of its parameters, in registration order. SetAuxParams
// requires exactly AuxParamCount(net) values.
int64_t AuxParamCount(torch::nn::Sequential& net);
std::vector<float> GetAuxParams(torch::nn::Sequential& net);
void SetAuxParams(torch::nn::Sequential& net, const std::vector<float>& flat);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_AUX_NET_H_
