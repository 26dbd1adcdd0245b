#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (PATH first, then pyenv), or one line saying what to install.
set -u
for cand in "${PYTHON310:-}" "$(command -v python3.10 2>/dev/null)"; do
  [ -n "$cand" ] && [ -x "$cand" ] && { echo "$cand"; exit 0; }
done
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for cand in $(ls -d "$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do
  [ -x "$cand" ] && { echo "$cand"; exit 0; }
done
echo "Python 3.10 is required (Rasa 3.6 runs on 3.8-3.10): install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv', then re-run." >&2
exit 1
