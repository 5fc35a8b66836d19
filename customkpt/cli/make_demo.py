"""``customkpt make-demo``: write the synthetic ``self5`` demo dataset (nothing to download)."""
from __future__ import annotations

import argparse

from .common import REPO_ROOT, make_parser

DEFAULT_OUT = str(REPO_ROOT / 'data' / 'self5')
MULTI_OUT = str(REPO_ROOT / 'data' / 'self5_multi')
EXAMPLES = (
    'customkpt make-demo --out data/self5',
    'customkpt make-demo --out data/self5 --num-train 2000 --seed 1 --force',
    'customkpt make-demo --out /tmp/tiny --num-train 20 --num-val 5 --no-video',
    'customkpt make-demo --multi      # several figures per image and a crossing video',
)
NOTES = """\
Writes train_coco_joint.json, val_coco_joint.json (file_name relative to
images/), images/, and unless --no-video a short video
(video/self5_video.mp4), its frames, per-frame ground truth
(video/self5_video_gt.json) and video_coco_joint.json. A dataset already
there with the same parameters (its manifest.json) is kept unless --force.

--multi writes the multi-figure data instead, by default into
data/self5_multi: multi_coco_joint.json with --images-per-count images for
each of --figures-per-image (1 2 4 8), and a video of --video-figures
figures walking across each other (video/multi_video.mp4,
video/multi_video_gt.json with a track_id per figure,
multi_video_coco_joint.json). --num-train, --num-val do not apply there.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is ``None``)."""
    p = make_parser('make-demo', 'Write the synthetic self5 demo dataset.', EXAMPLES, NOTES)
    p.add_argument('--out', default=None,
                   help='dataset folder (default: data/self5 in the repository; '
                        'data/self5_multi with --multi)')
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
    multi = p.add_argument_group('multi-figure data (--multi)')
    multi.add_argument('--multi', action='store_true',
                       help='write the multi-figure images and video instead')
    multi.add_argument('--figures-per-image', type=int, nargs='+', default=[1, 2, 4, 8],
                       metavar='N', help='figure counts of the images (1 2 4 8)')
    multi.add_argument('--images-per-count', type=int, default=25,
                       help='images per figure count (25)')
    multi.add_argument('--video-figures', type=int, default=4,
                       help='figures walking in the video, 2-4 (4)')
    args = p.parse_args(argv)
    if args.multi and not 2 <= args.video_figures <= 4:
        p.error(f'--video-figures must be 2, 3 or 4, got {args.video_figures}')
    if args.multi and not all(1 <= n <= 254 for n in args.figures_per_image):
        p.error(f'--figures-per-image: each count must be 1-254, got {args.figures_per_image}')
    if args.out is None:
        args.out = MULTI_OUT if args.multi else DEFAULT_OUT
    return args


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
    if 'multi_images' in c:
        lines[1:] = [f'  multi_coco_joint.json  {c["multi_images"]} images, '
                     f'{c.get("multi_instances", 0)} instances (images/multi_*.jpg)']
        if 'multi_video_frames' in c:
            lines.append(f'  video/multi_video.mp4  {c["multi_video_frames"]} frames; '
                         'video/multi_video_gt.json, video/frames/*.jpg, '
                         f'multi_video_coco_joint.json ({c["multi_video_instances"]} instances)')
    if 'video_frames' in c:
        lines += [f'  video/self5_video.mp4  {c["video_frames"]} frames',
                  '  video/self5_video_gt.json, video/frames/*.jpg, '
                  f'video_coco_joint.json ({c.get("video_instances", 0)} instances)']
    return '\n'.join(lines)


def main(argv: list[str] | None = None):
    """Write the dataset; returns the :class:`customkpt.demo.BuildResult`."""
    from customkpt.demo import build_self5_dataset
    args = parse_args(argv)
    if args.multi:
        from customkpt.demo.multi_dataset import build_multi_dataset
        result = build_multi_dataset(
            args.out, figures_per_image=args.figures_per_image,
            images_per_count=args.images_per_count, image_size=tuple(args.image_size),
            seed=args.seed, video_figures=args.video_figures,
            video_frames=0 if args.no_video else args.video_frames, video_fps=args.fps,
            force=args.force, progress=not args.no_progress)
    else:
        result = build_self5_dataset(
            args.out, num_train=args.num_train, num_val=args.num_val,
            image_size=tuple(args.image_size), seed=args.seed, with_video=not args.no_video,
            video_frames=args.video_frames, video_fps=args.fps, force=args.force,
            progress=not args.no_progress)
    print(report(result), flush=True)
    return result
