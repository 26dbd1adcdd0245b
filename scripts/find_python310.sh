#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter (PYTHON310, PATH, then pyenv's versions),
# or one line saying what to install.
set -u
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for cand in "${PYTHON310:-}" "$(command -v python3.10 2>/dev/null)" $(ls -d "$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do
  if works "$cand"; then echo "$cand"; exit 0; fi
done
echo "Python 3.10 is required (Rasa 3.6 runs on 3.8-3.10): install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv', then re-run." >&2
exit 1
