"""Write the synthetic self5 demo dataset (no download needed).

    python tools/make_demo_dataset.py --out data/self5
    python tools/make_demo_dataset.py --out data/self5 --num-train 2000 --seed 1 --force

Writes train_coco_joint.json, val_coco_joint.json, images/ and (unless
--no-video) a short video with per-frame ground truth. An existing dataset
made with the same parameters is kept as it is.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import time

try:
    from customkpt.demo import make_self5_dataset
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    from customkpt.demo import make_self5_dataset


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description='Write the synthetic self5 demo dataset')
    p.add_argument('--out', default='data/self5')
    p.add_argument('--num-train', type=int, default=600)
    p.add_argument('--num-val', type=int, default=100)
    p.add_argument('--width', type=int, default=320)
    p.add_argument('--height', type=int, default=240)
    p.add_argument('--video-frames', type=int, default=150)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-video', action='store_true')
    p.add_argument('--force', action='store_true', help='rewrite even if it exists')
    args = p.parse_args(argv)
    t0 = time.time()
    out = make_self5_dataset(args.out, num_train=args.num_train, num_val=args.num_val,
                             image_size=(args.width, args.height), seed=args.seed,
                             with_video=not args.no_video, video_frames=args.video_frames,
                             force=args.force, progress=sys.stderr.isatty())
    counts = json.loads((out / 'manifest.json').read_text())['counts']
    print(f'self5 dataset in {out} ({time.time() - t0:.1f} s): {json.dumps(counts)}')


if __name__ == '__main__':
    main()
