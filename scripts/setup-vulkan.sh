#!/usr/bin/env bash
# Installs a software Vulkan driver so that Dawn (npm `webgpu`) finds an adapter on machines
# without a GPU: Mesa lavapipe >= 24 from Debian's backports suite, plus the Vulkan loader.
# Debian 12's own Mesa (22.3) is rejected by Dawn, hence backports. Idempotent: does nothing
# when a new-enough lavapipe is already installed. The mirror is taken from the machine's apt
# sources, never written here.
set -euo pipefail

want_major=24
installed_version() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true; }
major_of() { sed -E 's/^([0-9]+:)?([0-9]+).*/\2/' <<<"$1"; }

current=$(installed_version)
if [[ -n $current && $(major_of "$current") -ge $want_major ]] && dpkg-query -W libvulkan1 >/dev/null 2>&1; then
  echo "setup-vulkan: lavapipe $current already installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  sudo=sudo
else
  sudo=
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [[ -z $codename ]]; then
  echo "setup-vulkan: cannot tell the Debian release from /etc/os-release" >&2
  exit 1
fi

# Find the Debian mirror already configured (deb822 .sources or one-line .list files).
mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
if [[ -z $mirror ]]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
fi
if [[ -z $mirror ]]; then
  echo "setup-vulkan: no Debian mirror found in /etc/apt sources" >&2
  exit 1
fi

list=/etc/apt/sources.list.d/archc-backports.list
line="deb $mirror ${codename}-backports main"
if ! grep -qsF "$line" "$list"; then
  echo "$line" | $sudo tee "$list" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
echo "setup-vulkan: installed lavapipe $(installed_version)"
