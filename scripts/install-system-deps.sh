#!/usr/bin/env bash
# Install the system packages the tests need, only when something is missing (idempotent).
#
#   scripts/install-system-deps.sh          install what is missing (as root), else say what to run
#   scripts/install-system-deps.sh --check  only report; exit 1 if something is missing
#
# Each entry below is "command-that-must-exist:debian-package". Add packages to REQUIRED (a later
# need is one more line). Nothing runs apt-get
# when everything is present, so `make test` stays fast and works offline on a ready machine.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # slurmctld, slurmd and munged live in sbin

REQUIRED=(
  "chromium:chromium"  # the browser tests of `neuralab serve` (Playwright drives /usr/bin/chromium)
  "sbatch:slurm-wlm"  # tests/test_slurm.py starts a real single-node Slurm (slurmctld, slurmd)
  "slurmctld:slurm-wlm"
  "slurmd:slurm-wlm"
  "munged:munge"  # Slurm's authentication daemon
)

check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

missing=()
for entry in "${REQUIRED[@]}"; do
  command_name="${entry%%:*}"
  package="${entry#*:}"
  if ! command -v "$command_name" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "system packages missing: ${missing[*]}" >&2
if [[ $check_only -eq 1 ]]; then
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "run as root to install them: apt-get install -y ${missing[*]}" >&2
  echo "(without them the browser and Slurm tests skip; with CI=true they fail)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install ${missing[*]} with this system's package manager" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"
