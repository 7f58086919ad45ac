#!/usr/bin/env bash
# Installs what building, running and testing kos-twin need on a Debian 12 machine that has
# rustup: a C linker, the Vulkan loader with Mesa's software driver, the X11 libraries the
# window opens with, Xvfb for rendering tests without a screen, and mosquitto (broker and
# clients) with openssl for the telemetry tests and benchmark. Idempotent: installs only
# what is missing. Source it or run it.
set -euo pipefail

packages=(gcc libc6-dev pkg-config libvulkan1 mesa-vulkan-drivers libx11-xcb1 libxcursor1 libxrandr2 libxi6
          libxkbcommon-x11-0 xvfb xauth mosquitto mosquitto-clients openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
command -v cargo >/dev/null || { echo "cargo not found: install rustup (https://rustup.rs)" >&2; exit 1; }
