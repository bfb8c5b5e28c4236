// hostile_load: holds N hostile connections to a coordinator, each on its own
// TCP connection, until killed or --seconds pass. Connection i, by i % 4:
//   0: a SplitTraining stream that never sends (held until the coordinator
//      cancels it after server.stream_idle_s, then reopened);
//   1: PullTask long-polls under a forged session;
//   2: Joins as an honest device id with a wrong token;
//   3: a PushUpdate stream whose header forges a session, then silence.
// Each connection makes at most about 5 calls a second. Prints the calls
// made and their status codes every 5 s. For bench/hostile_connections.sh.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "proto/tandem.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "coordinator address");
ABSL_FLAG(int, connections, 200, "hostile connections");
ABSL_FLAG(double, seconds, 60, "how long to keep them");
ABSL_FLAG(std::string, victim, "dev-00", "device id to impersonate");

namespace {

using tandem::v1::Coordinator;
using tandem::v1::SplitTraining;

std::chrono::system_clock::time_point In(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
}

class Tally {
 public:
  void Add(grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    ++codes_[code];
  }
  void Print() {
    absl::MutexLock lock(&mu_);
    int64_t total = 0;
    for (const auto& [code, n] : codes_) total += n;
    std::printf("hostile calls: %lld;", static_cast<long long>(total));
    for (const auto& [code, n] : codes_) {
      std::printf(" code %d x %lld", static_cast<int>(code),
                  static_cast<long long>(n));
    }
    std::printf("\n");
  }

 private:
  absl::Mutex mu_;
  std::map<grpc::StatusCode, int64_t> codes_;
};

grpc::Status OneCall(int kind, const std::shared_ptr<grpc::Channel>& channel,
                     std::mt19937_64& rng, double end_in_s) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::min(end_in_s, 300.0)));
  const std::string forged = absl::StrCat(rng(), rng());
  const std::string victim = absl::GetFlag(FLAGS_victim);
  switch (kind) {
    case 0: {
      auto stream = SplitTraining::NewStub(channel)->Train(&ctx);
      tandem::v1::SplitReply reply;
      while (stream->Read(&reply)) {
      }
      return stream->Finish();
    }
    case 1: {
      tandem::v1::PullTaskRequest req;
      req.set_device_id(victim);
      req.set_session_id(forged);
      auto reader = Coordinator::NewStub(channel)->PullTask(&ctx, req);
      tandem::v1::TaskChunk chunk;
      while (reader->Read(&chunk)) {
      }
      return reader->Finish();
    }
    case 2: {
      tandem::v1::JoinRequest req;
      req.set_device_id(victim);
      req.set_token(forged);
      tandem::v1::JoinReply reply;
      return Coordinator::NewStub(channel)->Join(&ctx, req, &reply);
    }
    default: {
      tandem::v1::PushUpdateReply reply;
      auto writer = Coordinator::NewStub(channel)->PushUpdate(&ctx, &reply);
      tandem::v1::UpdateChunk header;
      header.mutable_header()->set_device_id(victim);
      header.mutable_header()->set_session_id(forged);
      header.mutable_header()->set_round(1);
      header.mutable_header()->set_num_samples(1000000000);
      writer->Write(header);
      return writer->Finish();  // waits: the stream is never closed
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_connections);
  const absl::Time end =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  Tally tally;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([i, end, &tally] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // own connection
      auto channel =
          grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server),
                                    grpc::InsecureChannelCredentials(), args);
      std::mt19937_64 rng(1000 + i);
      while (absl::Now() < end) {
        const double left = absl::ToDoubleSeconds(end - absl::Now());
        tally.Add(OneCall(i % 4, channel, rng, left).error_code());
        absl::SleepFor(absl::Milliseconds(200));
      }
    });
  }
  std::thread([&tally] {
    for (;;) {
      absl::SleepFor(absl::Seconds(5));
      tally.Print();
      std::fflush(stdout);
    }
  }).detach();
  for (std::thread& t : threads) t.join();
  tally.Print();
  return 0;
}
