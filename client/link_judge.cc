#include "client/link_judge.h"

namespace tandem::client {

LinkSample Larger(const LinkSample& a, const LinkSample& b) {
  return a.bytes >= b.bytes ? a : b;
}

double JudgedMbps(const LinkSample& download, const LinkSample& recent,
                  const RoundAccounting& accounting, std::string* on) {
  for (const LinkSample* s : {&download, &recent}) {
    if (s->bytes <= 0 || !(s->seconds > 0)) continue;
    const double seconds = accounting.GuardSeconds(s->bytes, s->seconds);
    if (!(seconds > 0)) continue;
    *on = s->what;
    return static_cast<double>(s->bytes) * 8 / seconds / 1e6;
  }
  return 0;
}

}  // namespace tandem::client
