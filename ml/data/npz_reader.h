// Reader for NumPy's .npz archives (numpy.savez / savez_compressed): a zip
// file holding one .npy entry per array, stored or deflated.
//
// libzip (Debian's libzip-dev) reads the archive and inflates the entries,
// checking their CRCs. Each entry's sizes are bounded by the archive's size
// (and deflate's largest ratio) before anything is allocated.
//
//   TANDEM_ASSIGN_OR_RETURN(std::vector<NpyArray> xy,
//                           ReadNpzEntries("train.npz", {"x.npy", "y.npy"}));
//
// Functions here hold no state and are thread-safe.
#ifndef TANDEM_ML_DATA_NPZ_READER_H_
#define TANDEM_ML_DATA_NPZ_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/data/npy_reader.h"

namespace tandem::data {

// The arrays `entries` (names inside the zip, e.g. "x.npy") of the .npz at
// `path`, in that order. NotFound if `path` does not exist; DataLoss naming
// the file (and entry) for an archive libzip cannot read (its message is
// kept), a missing entry (listing the ones present), or an entry that is not
// a valid .npy (see ParseNpy).
absl::StatusOr<std::vector<NpyArray>> ReadNpzEntries(
    const std::string& path, const std::vector<std::string>& entries);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_NPZ_READER_H_
