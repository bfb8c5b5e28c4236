#!/usr/bin/env bash
# Installs what is missing, builds Release into build/, and runs the fleet
# simulator on configs/quickstart.json. Extra arguments go to tandem-sim.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
./deploy/build.sh tandem-sim tandem-server tandem-client
exec ./build/sim/tandem-sim --config configs/quickstart.json "$@"
