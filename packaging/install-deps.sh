#!/usr/bin/env bash
# Installs every build, run and test dependency of Trainyard from Debian 12 packages.
# Idempotent: when every package is already installed it does nothing (no apt-get update).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git dpkg-dev file
  # the fuzz preset: clang with libFuzzer, ASan and UBSan runtimes; the format check (tests/check_format.sh)
  clang libclang-rt-14-dev clang-format
  # Qt 6.4: Core, Gui, Widgets, Sql, Test, Concurrent (qt6-base-dev), Charts, platform plugins
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6opengl6-dev qt6-qpa-plugins libqt6sql6-sqlite libgl-dev libxkbcommon-dev
  # storage, HTTP, JSON, YAML
  libsqlite3-dev sqlite3 libcurl4-openssl-dev libsimdjson-dev libyaml-cpp-dev
  # the MLflow-compatible tracking server (QtHttpServer) and TensorBoard event files (protobuf)
  qt6-httpserver-dev qt6-websockets-dev libprotobuf-dev protobuf-compiler
  # GUI tests without a display, fonts so text renders offscreen
  xvfb xauth x11-utils fonts-dejavu-core
  # desktop notifications (QtDBus, in qt6-base-dev) are tested on a session bus of their own (dbus-run-session)
  dbus-daemon
  # validating the desktop entry and AppStream metadata of the package
  desktop-file-utils appstream
  # end-to-end runs: real PyTorch (CPU, gloo) at /usr/bin/python3
  python3 python3-torch
  # Bayesian sweeps (method: tpe): the queue runs Optuna as a helper process
  python3-optuna
  # the real MLflow 2.12.2 client and TensorBoard writers in ../shared/realclients (their README lists these)
  python3-protobuf python3-click python3-cloudpickle python3-entrypoints python3-git python3-yaml python3-tz
  python3-requests python3-packaging python3-importlib-metadata python3-sqlparse python3-numpy python3-six python3-absl
  # the Slurm tests' loopback cluster (tests/slurm/cluster.sh): controller, node daemons, REST API with JWT, munge
  slurm-wlm slurm-wlm-jwt-plugin slurmrestd munge
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]}; installing them with sudo"
    exec sudo --preserve-env=DEBIAN_FRONTEND "$0" "$@"
  fi
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
