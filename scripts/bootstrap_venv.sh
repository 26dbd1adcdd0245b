#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies from requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/find_python310.sh)"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  rm -rf .venv
  echo "==> creating .venv with $py"
  "$py" -m venv .venv
fi
echo "==> installing pinned dependencies (requirements.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.2"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip check
