// What the link guard judges a device's link by. The task's download is the
// freshest measurement, but a real download under 256 KiB is timed mostly by
// round trips and TCP's slow start (RoundAccounting::GuardSeconds says
// when): vgg5's head at split point 2 is about 21 KB, so the placement that
// pays most would never be judged. Then the guard takes the device's most
// recent large transfer instead: the previous round's activation upload
// (the local-loss stream's writer, timed while it was writing) or its
// update upload, whichever moved more bytes.
#ifndef TANDEM_CLIENT_LINK_JUDGE_H_
#define TANDEM_CLIENT_LINK_JUDGE_H_

#include <cstdint>
#include <string>

#include "client/device_environment.h"

namespace tandem::client {

// A transfer's bytes and wall seconds, and what it was.
struct LinkSample {
  int64_t bytes = 0;
  double seconds = 0;
  std::string what;
};

// The larger of two samples of one round (none when both are empty).
LinkSample Larger(const LinkSample& a, const LinkSample& b);

// Mbit/s judged from `download` (the task's), else from `recent`; *on says
// which (unchanged, and 0 returned, when neither can be judged).
double JudgedMbps(const LinkSample& download, const LinkSample& recent,
                  const RoundAccounting& accounting, std::string* on);

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_LINK_JUDGE_H_
