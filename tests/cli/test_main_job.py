"""The README's main-job command, in its quick form."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_main_job_quick_runs_data_to_trained_model(tmp_path):
    cmd = [sys.executable, str(ROOT / 'tools' / 'main_job.py'), '--quick',
           '--data', str(tmp_path / 'data'), '--work-dir', str(tmp_path / 'wd')]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((tmp_path / 'wd' / 'summary.json').read_text())
    for split in ('train', 'val'):
        assert summary['check'][split]['instances'] > 0
        assert '0 errors' in summary['check'][split]['report']
    drawn = sorted((tmp_path / 'wd' / 'browse').glob('*.png'))
    assert len([p for p in drawn if p.stem.endswith('_original')]) == 8
    assert len([p for p in drawn if p.stem.endswith('_transformed')]) == 8
    assert (tmp_path / 'data' / 'video' / 'self5_video.mp4').is_file()
    # Untrained and trained evaluations, a checkpoint, curves and overlays.
    for key in ('untrained', 'trained'):
        assert {'coco/AP', 'PCK', 'AUC', 'EPE'} <= set(summary[key])
    assert Path(summary['checkpoint']).is_file()
    assert (tmp_path / 'wd' / 'curves.png').stat().st_size > 1000
    assert len(list((tmp_path / 'wd' / 'overlays').glob('*.png'))) == \
        summary['check']['val']['instances']
    # A second run reuses the data.
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
