#!/usr/bin/env bash
# The main job on the embedded default: sets up .venv when needed, then runs
# tools/main_job.py (demo data -> check -> ... ; see the README).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/setup_env.sh"
cd "$root"
exec "$root/.venv/bin/python" "$root/tools/main_job.py" "$@"
