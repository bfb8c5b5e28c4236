#include "tests/ml/torchscript_files.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "gtest/gtest.h"

namespace tandem::test_models {
namespace {

std::string Folder() {
  static const std::string* const folder = [] {
    auto* f = new std::string(::testing::TempDir() + "tandem-torchscript-" +
                              std::to_string(getpid()));
    std::system(("mkdir -p '" + *f + "'").c_str());
    return f;
  }();
  return *folder;
}

// Runs `command` once per process (by text); "" on success, else its output.
std::string RunOnce(const std::string& command) {
  static std::mutex mu;
  static auto* const done = new std::map<std::string, std::string>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = done->find(command);
  if (it != done->end()) return it->second;
  const std::string log = Folder() + "/python.log";
  const int rc = std::system((command + " >'" + log + "' 2>&1").c_str());
  std::string error;
  if (rc != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    error =
        "`" + command + "` failed (is python3-torch installed?): " + text.str();
  }
  (*done)[command] = error;
  return error;
}

std::string Checked(const std::string& command, const std::string& path) {
  const std::string error = RunOnce(command);
  if (error.empty()) return path;
  ADD_FAILURE() << error;
  return "";
}

}  // namespace

std::string TorchScriptModelFile(const std::string& model,
                                 const std::string& args) {
  std::string tag = model + args;
  for (char& c : tag) {
    if (c == ' ' || c == '-') c = '_';
  }
  const std::string path = Folder() + "/" + tag + ".pt";
  return Checked(std::string("/usr/bin/python3 ") + TANDEM_SOURCE_DIR +
                     "/examples/pytorch/tandem_models.py " + model + " '" +
                     path + "' " + args,
                 path);
}

std::string BadTorchScriptFile(const std::string& name) {
  return Checked(std::string("/usr/bin/python3 ") + TANDEM_SOURCE_DIR +
                     "/tests/ml/bad_models.py '" + Folder() + "'",
                 Folder() + "/" + name + ".pt");
}

}  // namespace tandem::test_models
