#!/usr/bin/env bash
# Installs what the project needs on Debian 12 (apt packages), builds the
# release binaries, and runs the embedded default campaign.
#
#   scripts/setup.sh               install + build + run the default campaign
#   scripts/setup.sh --no-campaign install + build only (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."

run_campaign=1
case "${1:-}" in
    --no-campaign) run_campaign=0 ;;
    "") ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (expected --no-campaign or --help)" >&2; exit 2 ;;
esac

packages=(libsqlite3-dev libopenblas-dev liblz4-dev zlib1g-dev lz4 pkg-config
          dataset-fashion-mnist python3 pngcheck)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${packages[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

echo "setup: building (release)"
swift build -c release

if [ "$run_campaign" -eq 1 ]; then
    echo "setup: running the default campaign (pipelines/default.json)"
    scripts/run-campaign.sh pipelines/default.json
fi
