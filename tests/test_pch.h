// The precompiled header of every test binary (tests/CMakeLists.txt): the
// third-party headers that most tests include, whose parsing was a third
// of a test's compile time. Project headers stay out: they change often.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/tandem.grpc.pb.h"
#include "proto/tandem.pb.h"
