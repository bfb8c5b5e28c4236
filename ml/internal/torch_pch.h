// Precompiled header of the LibTorch targets (see ml/CMakeLists.txt).
#include <torch/torch.h>
