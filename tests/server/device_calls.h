// A device's calls written by hand over a Coordinator stub, for the server
// tests that drive the coordinator one message at a time.
#ifndef TANDEM_TESTS_SERVER_DEVICE_CALLS_H_
#define TANDEM_TESTS_SERVER_DEVICE_CALLS_H_

#include <string>

#include "core/weights.h"
#include "core/weights_codec.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/tandem.grpc.pb.h"

namespace tandem::server {

// Pulls until a TRAIN task arrives (20 polls at most); its header, and its
// weights into *weights.
inline v1::TaskHeader PullTrainTask(v1::Coordinator::Stub* stub,
                                    const std::string& id,
                                    const std::string& session,
                                    Weights* weights) {
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    v1::PullTaskRequest req;
    req.set_device_id(id);
    req.set_session_id(session);
    auto reader = stub->PullTask(&ctx, req);
    v1::TaskChunk chunk;
    EXPECT_TRUE(reader->Read(&chunk));
    const v1::TaskHeader header = chunk.header();
    if (header.kind() == v1::TaskHeader::TRAIN) {
      WeightsAssembler a(LayoutFromProto(header.layout()).value());
      while (reader->Read(&chunk)) EXPECT_TRUE(a.Add(chunk.weights()).ok());
      EXPECT_TRUE(reader->Finish().ok());
      *weights = a.Finish().value();
      return header;
    }
    EXPECT_TRUE(reader->Finish().ok());
  }
  ADD_FAILURE() << "no task for " << id;
  return {};
}

// Pushes `w` as `id`'s update for `round`; `skip_chunk` sends the data at a
// wrong offset.
inline grpc::Status PushUpdate(v1::Coordinator::Stub* stub,
                               const std::string& id,
                               const std::string& session, int64_t round,
                               const Weights& w, int64_t samples,
                               bool skip_chunk = false) {
  grpc::ClientContext ctx;
  v1::PushUpdateReply reply;
  auto writer = stub->PushUpdate(&ctx, &reply);
  v1::UpdateChunk chunk;
  v1::UpdateHeader* h = chunk.mutable_header();
  h->set_device_id(id);
  h->set_session_id(session);
  h->set_round(round);
  h->set_num_samples(samples);
  LayoutToProto(w.layout(), h->mutable_layout());
  writer->Write(chunk);
  for (int i = 0; i < NumChunks(w); ++i) {
    chunk.Clear();
    FillChunk(w, i, chunk.mutable_weights());
    if (skip_chunk) chunk.mutable_weights()->set_offset(4);
    writer->Write(chunk);
  }
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace tandem::server

#endif  // TANDEM_TESTS_SERVER_DEVICE_CALLS_H_
