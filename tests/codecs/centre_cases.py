"""Random CentreLabel objects on a 128 x 96 input, shared by the centre-codec tests."""
import numpy as np

# Seven points, deliberately lopsided: 0 and 6 unpaired, 1<->4, 2<->5, 3 unpaired.
FLIP7 = [0, 4, 5, 3, 1, 2, 6]
SIZE = (128, 96)


def _objects(seed=0, n=6, k=7, stride=4):
    """n boxes on distinct grid cells with keypoints inside; some unlabelled."""
    rng = np.random.default_rng(seed)
    cells = rng.choice((SIZE[0] // stride) * (SIZE[1] // stride), n, replace=False)
    cy, cx = np.divmod(cells, SIZE[0] // stride)
    centres = (np.stack([cx, cy], 1) + rng.uniform(0.05, 0.95, (n, 2))) * stride
    room = np.minimum(centres, np.array(SIZE) - centres)   # boxes lie inside the input
    half = np.minimum(rng.uniform(4, 20, (n, 2)), room)
    boxes = np.concatenate([centres - half, centres + half], 1)
    kpts = rng.uniform(boxes[:, None, :2], boxes[:, None, 2:], (n, k, 2))
    kpts = np.clip(kpts, 0, [SIZE[0] - 1, SIZE[1] - 1])
    vis = (rng.random((n, k)) > 0.25).astype(np.float32)
    labels = rng.integers(0, 2, n)
    return boxes.astype(np.float32), labels, kpts.astype(np.float32), vis


def _match(decoded, boxes):
    """Index of the decoded object nearest each true box (by box centre)."""
    centres = (decoded['bboxes'][:, :2] + decoded['bboxes'][:, 2:]) / 2
    true = (boxes[:, :2] + boxes[:, 2:]) / 2
    return np.linalg.norm(centres[None] - true[:, None], axis=-1).argmin(1)
