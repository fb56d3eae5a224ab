# Shared by the scripts in this folder: where the project's Python environment lives.
# Two layouts, chosen by scripts/setup:
#   .venv/                      a plain venv, when the host has Python >= 3.14.2
#   .toolchain/rootfs/opt/venv  a venv inside a Debian sid root filesystem (see CONTRIBUTING.md,
#                               "What the commands need"), entered by scripts/exec
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PLAIN_VENV="$REPO/.venv"
ROOTFS="$REPO/.toolchain/rootfs"
CHROOT_VENV="/opt/venv"
MIN_PYTHON="3.14.2"
export REPO PLAIN_VENV ROOTFS CHROOT_VENV MIN_PYTHON

die() { echo "error: $*" >&2; exit 1; }
