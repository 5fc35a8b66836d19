#!/usr/bin/env bash
# Distributed training on one machine with torchrun:
#   bash tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options...]
# Uses NCCL on GPUs and gloo on CPU. For Slurm use
#   srun ... python tools/train.py CONFIG --launcher slurm
set -euo pipefail
config="$1"; nproc="$2"; shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python}"
[ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"
PYTHONPATH="$root:${PYTHONPATH:-}" exec "$python" -m torch.distributed.run \
  --nnodes "${NNODES:-1}" --node_rank "${NODE_RANK:-0}" \
  --master_addr "${MASTER_ADDR:-127.0.0.1}" --master_port "${PORT:-29500}" \
  --nproc_per_node "$nproc" "$root/tools/train.py" "$config" --launcher pytorch "$@"
