"""Shared fixtures of the CLI tests: the demo clip, its boxes and a tiny model checkpoint."""
from __future__ import annotations

import json

import cv2
import pytest
import torch

from customkpt.apis import init_model
from customkpt.demo import render_video_frame

from .demo_clip import CONFIG, FRAMES, SIZE


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """A 12-frame clip of the demo scene, its per-frame boxes and a
    checkpoint of a tiny random model."""
    root = tmp_path_factory.mktemp('demo_video')
    torch.manual_seed(0)
    model = init_model(CONFIG)
    ckpt = root / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)),
               ckpt)
    writer = cv2.VideoWriter(str(root / 'clip.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, SIZE)
    dets, frames = [], []
    for t in range(FRAMES):
        img, instances = render_video_frame(t, 0, SIZE)
        writer.write(img)
        frames.append(img)
        for inst in instances:
            dets.append(dict(image_id=t, bbox=[float(v) for v in inst.bbox], score=0.9,
                             category_id=1))
    writer.release()
    (root / 'dets.json').write_text(json.dumps(dets))
    return dict(root=root, video=root / 'clip.mp4', ckpt=ckpt, dets=root / 'dets.json',
                frames=frames, boxes=dets)
