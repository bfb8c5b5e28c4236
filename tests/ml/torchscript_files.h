// TorchScript files for tests, written once per test process with Debian's
// python3-torch (/usr/bin/python3, installed by install-deps.sh --ci) by
// examples/pytorch/tandem_models.py and tests/ml/bad_models.py.
#ifndef TANDEM_TESTS_ML_TORCHSCRIPT_FILES_H_
#define TANDEM_TESTS_ML_TORCHSCRIPT_FILES_H_

#include <string>

namespace tandem::test_models {

// The path of tandem_models.py's `model` ("mlp", "cnn", "vgg5", "cnn1d")
// saved as TorchScript with `args` (e.g. "--classes 6"); "" after a test
// failure (ADD_FAILURE) naming Python's output when it could not be written.
std::string TorchScriptModelFile(const std::string& model,
                                 const std::string& args = "");
// The path of bad_models.py's file `name` (e.g. "no_stages"), "" likewise.
std::string BadTorchScriptFile(const std::string& name);

}  // namespace tandem::test_models

#endif  // TANDEM_TESTS_ML_TORCHSCRIPT_FILES_H_
