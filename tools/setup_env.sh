#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv.
# Safe to run any number of times: it reinstalls only when a requirements
# file changed since the last successful run (tracked by a stamp file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CUSTOMKPT_VENV:-$root/.venv}"
py="${PYTHON:-python3}"
stamp="$venv/.customkpt-stamp"

want="$(cat "$root/requirements.txt" "$root/requirements-dev.txt" "$root/setup.cfg" \
        "$root/tools/setup_env.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "[setup] preparing $venv (first run takes a few minutes)" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip setuptools wheel
"${pip[@]}" install -r "$root/requirements.txt" -r "$root/requirements-dev.txt"
# The xtcocotools wheel is compiled against numpy 1 and fails on numpy 2;
# build it here against the installed numpy.
"${pip[@]}" install --no-binary xtcocotools --no-build-isolation xtcocotools
"${pip[@]}" install --no-deps -e "$root"
echo "$want" > "$stamp"
echo "[setup] ready: $venv" >&2
