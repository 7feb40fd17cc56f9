#!/usr/bin/env bash
# System packages the Python build needs: vpdq (our test oracle for video hashes) builds against
# FFmpeg's libav*, and the panic-button test drives Debian's chromium. Idempotent and quiet.
set -euo pipefail
need=()
for pkg in g++ cmake pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
           libavdevice-dev libavfilter-dev libswresample-dev ffmpeg chromium default-jre-headless; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
