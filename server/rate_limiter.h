// A token bucket: at most `rate` events per second on average, in bursts of
// at most `burst`. Time comes from the caller (the coordinator's clock).
//
//   RateLimiter joins(200, 200);
//   if (!joins.Allow(clock.NowSeconds())) refuse;
//
// Not thread-safe: the coordinator calls it under its mutex.
#ifndef TANDEM_SERVER_RATE_LIMITER_H_
#define TANDEM_SERVER_RATE_LIMITER_H_

#include <algorithm>

namespace tandem::server {

class RateLimiter {
 public:
  RateLimiter(double rate, double burst)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  // Takes a token if there is one.
  bool Allow(double now_s) {
    if (last_s_ >= 0 && now_s > last_s_) {
      tokens_ = std::min(burst_, tokens_ + (now_s - last_s_) * rate_);
    }
    last_s_ = std::max(last_s_, now_s);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  const double rate_, burst_;
  double tokens_;
  double last_s_ = -1;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_RATE_LIMITER_H_
