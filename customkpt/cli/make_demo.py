"""``customkpt make-demo``: write the synthetic ``self5`` demo dataset (nothing to download)."""
from __future__ import annotations

import argparse

from .common import REPO_ROOT, make_parser

DEFAULT_OUT = str(REPO_ROOT / 'data' / 'self5')
EXAMPLES = (
    'customkpt make-demo --out data/self5',
    'customkpt make-demo --out data/self5 --num-train 2000 --seed 1 --force',
    'customkpt make-demo --out /tmp/tiny --num-train 20 --num-val 5 --no-video',
)
NOTES = """\
Writes train_coco_joint.json, val_coco_joint.json (file_name relative to
images/), images/, and unless --no-video a short video
(video/self5_video.mp4), its frames, per-frame ground truth
(video/self5_video_gt.json) and video_coco_joint.json. A dataset already
there with the same parameters (its manifest.json) is kept unless --force.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is ``None``)."""
    p = make_parser('make-demo', 'Write the synthetic self5 demo dataset.', EXAMPLES, NOTES)
    p.add_argument('--out', default=DEFAULT_OUT,
                   help='dataset folder (default: data/self5 in the repository)')
    p.add_argument('--num-train', type=int, default=600, help='training images (600)')
    p.add_argument('--num-val', type=int, default=100, help='validation images (100)')
    p.add_argument('--image-size', type=int, nargs=2, default=(320, 240), metavar=('W', 'H'),
                   help='image and video frame size (320 240)')
    p.add_argument('--seed', type=int, default=0, help='random seed (0)')
    p.add_argument('--video-frames', type=int, default=150, help='video length in frames (150)')
    p.add_argument('--fps', type=int, default=25, help='video frame rate (25)')
    p.add_argument('--no-video', action='store_true', help='skip the video')
    p.add_argument('--force', action='store_true',
                   help='regenerate even when an identical dataset is there')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def report(result) -> str:
    """One human-readable summary of a :class:`customkpt.demo.BuildResult`."""
    c = result.counts
    if result.skipped:
        head = (f'{result.out_dir}: up to date (manifest.json matches these parameters), '
                'nothing written; use --force to regenerate')
    else:
        head = f'wrote {result.out_dir} in {result.seconds:.1f} s'
    lines = [head,
             f'  train_coco_joint.json  {c.get("train_images", 0)} images, '
             f'{c.get("train_instances", 0)} instances',
             f'  val_coco_joint.json    {c.get("val_images", 0)} images, '
             f'{c.get("val_instances", 0)} instances',
             '  images/                train_*.jpg, val_*.jpg (file_name is relative to images/)']
    if 'video_frames' in c:
        lines += [f'  video/self5_video.mp4  {c["video_frames"]} frames',
                  '  video/self5_video_gt.json, video/frames/*.jpg, '
                  f'video_coco_joint.json ({c.get("video_instances", 0)} instances)']
    return '\n'.join(lines)


def main(argv: list[str] | None = None):
    """Write the dataset; returns the :class:`customkpt.demo.BuildResult`."""
    from customkpt.demo import build_self5_dataset
    args = parse_args(argv)
    result = build_self5_dataset(
        args.out, num_train=args.num_train, num_val=args.num_val,
        image_size=tuple(args.image_size), seed=args.seed, with_video=not args.no_video,
        video_frames=args.video_frames, video_fps=args.fps, force=args.force,
        progress=not args.no_progress)
    print(report(result), flush=True)
    return result
