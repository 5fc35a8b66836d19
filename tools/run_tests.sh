#!/usr/bin/env bash
# The test command: sets up .venv when needed, then runs the whole suite on
# two workers. Extra arguments go to pytest (e.g. `-k meta`, `tests/models`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/setup_env.sh"
cd "$root"
# Two workers on two cores: one math thread each avoids oversubscription.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
exec "$root/.venv/bin/python" -m pytest -n "${CUSTOMKPT_TEST_WORKERS:-2}" --dist loadfile "$@"
