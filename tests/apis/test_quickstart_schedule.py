"""``train --data``: the rules that size a run to its dataset, and the memory readers."""
from __future__ import annotations

import math

import pytest

from customkpt.apis.quickstart import host_memory, size_schedule
from customkpt.apis.quickstart import schedule as sched

RECIPE = dict(train_size=(192, 256), batch_size=64, lr=1e-3)
MB = 1024 ** 2


def _fixed(free: int):
    return lambda: (free, 'the test')


@pytest.mark.parametrize('instances, iters, epochs', [
    (99, 9, 223),         # batch 12: ceil(2000 / 9)
    (20000, 313, 10),     # a large set: at least MIN_EPOCHS
    (16, 8, 250),
    (9, 5, 400),
    (3, 2, 1000),         # a tiny set: at most MAX_EPOCHS
])
def test_epochs_aim_at_the_target_iterations_within_bounds(instances, iters, epochs):
    s = size_schedule(instances, 0.75, RECIPE, 10 * MB, memory=_fixed(64 * 1024 ** 3))
    assert s.iters_per_epoch == iters == math.ceil(instances / s.batch_size)
    assert s.epochs == epochs
    assert sched.MIN_EPOCHS <= s.epochs <= sched.MAX_EPOCHS


def test_a_recipe_can_aim_at_its_own_number_of_iterations():
    s = size_schedule(99, 0.75, dict(RECIPE, target_iterations=6000), 10 * MB,
                      memory=_fixed(64 * 1024 ** 3))
    assert (s.iters_per_epoch, s.epochs) == (9, 667)    # ceil(6000 / 9)
    assert '(aiming at 6000, ' in s.why[3]
    fixed = size_schedule(99, 0.75, dict(RECIPE, target_iterations=6000), 10 * MB, epochs=5,
                          memory=_fixed(64 * 1024 ** 3))
    assert fixed.epochs == 5


def test_the_batch_is_capped_by_the_data_and_by_memory():
    assert sched.pick_batch_size(99, 64, 1000) == 12          # >= 8 iterations per epoch
    assert sched.pick_batch_size(5000, 64, 1000) == 64        # the recipe's
    assert sched.pick_batch_size(5000, 64, 7) == 7            # memory
    assert sched.pick_batch_size(3, 64, 1000) == 2            # at least 2 ...
    assert sched.pick_batch_size(1, 64, 1000) == 1            # ... unless there is one
    # 4 GiB free: half of it over 200 MB per sample at the reference size
    assert sched.memory_batch_cap(4 * 1024 ** 3, 200 * MB, (192, 256), (192, 256)) == 10
    # a square input of the same long side has 4/3 the area: fewer samples fit
    assert sched.memory_batch_cap(4 * 1024 ** 3, 200 * MB, (256, 256), (192, 256)) == 7
    assert sched.memory_batch_cap(1, 200 * MB, (256, 256), (192, 256)) == 1
    s = size_schedule(5000, 0.75, RECIPE, 200 * MB, memory=_fixed(4 * 1024 ** 3))
    assert s.batch_size == 10 and 'memory cap 10 (4.0 GiB free: the test)' in s.why[1]


def test_a_given_batch_replaces_the_rule_and_the_rest_follows_it():
    s = size_schedule(99, 0.75, RECIPE, 10 * MB, memory=_fixed(64 * 1024 ** 3), batch=16)
    assert (s.batch_size, s.iters_per_epoch, s.epochs) == (16, 7, 286)   # ceil(2000 / 7)
    assert s.lr == pytest.approx(1e-3 * 0.5, rel=1e-3)                    # sqrt(16 / 64)
    assert s.why[1].startswith('batch 16: given (--cfg-options batch_size), recipe 64')


def test_a_smaller_batch_gets_the_square_root_of_the_learning_rate_ratio():
    assert sched.scale_lr(1e-3, 16, 64) == pytest.approx(5e-4)
    assert sched.scale_lr(1e-3, 64, 64) == 1e-3
    assert sched.scale_lr(2e-3, 128, 64) == 2e-3
    s = size_schedule(40, 0.75, RECIPE, 10 * MB, memory=_fixed(64 * 1024 ** 3))
    assert (s.batch_size, s.lr) == (5, pytest.approx(1e-3 * math.sqrt(5 / 64), rel=1e-2))
    assert 'x sqrt(5/64)' in s.why[2]


def test_a_keep_rule_recipe_trains_a_small_batch_at_its_own_rate():
    assert sched.scale_lr(5e-4, 9, 64, 'keep') == 5e-4
    s = size_schedule(40, 0.75, dict(RECIPE, lr_rule='keep'), 10 * MB,
                      memory=_fixed(64 * 1024 ** 3))
    assert (s.batch_size, s.lr) == (5, 1e-3) and "lr 0.001 (the recipe's)" == s.why[2]
    with pytest.raises(ValueError, match='lr rule'):
        sched.scale_lr(5e-4, 9, 64, 'linear')
    from customkpt.apis.quickstart.recipes import RECIPES
    assert RECIPES['hrnet-w32'].lr_rule == 'keep' and RECIPES['hrnet-cpu'].lr_rule == 'sqrt'


def test_warmup_is_one_and_a_half_epochs_within_50_and_500_and_a_quarter_of_the_run():
    assert sched.pick_warmup(100, 100) == 150
    assert sched.pick_warmup(20, 100) == 50       # 30 is too few
    assert sched.pick_warmup(1000, 100) == 500    # 1500 too many
    assert sched.pick_warmup(10, 20) == 50        # the mirror-mouse at batch 8
    assert sched.pick_warmup(9, 20) == 45         # a quarter of 180 iterations
    assert sched.pick_warmup(3, 1) == 1           # never 0


def test_about_ten_validations_per_run():
    assert [sched.pick_val_interval(e) for e in (1, 9, 10, 44, 300)] == [1, 1, 1, 4, 30]


def test_given_epochs_replace_the_rule():
    s = size_schedule(99, 0.75, RECIPE, 10 * MB, epochs=3, memory=_fixed(64 * 1024 ** 3))
    assert (s.epochs, s.val_interval, s.warmup_iters) == (3, 1, 6)  # 1/4 of 27 iterations
    assert s.why[3].endswith('(--epochs)')


@pytest.mark.parametrize('aspect, size', [
    (0.5, (192, 256)), (0.8, (192, 256)),         # taller than wide: portrait
    (1.3, (256, 192)), (2.0, (256, 192)),         # wider than tall: landscape
])
def test_the_input_follows_the_boxes_shape(aspect, size):
    assert sched.pick_input_size(aspect, (192, 256)) == size
    assert sched.pick_input_size(aspect, (256, 192)) == size   # the recipe's orientation is moot


@pytest.mark.parametrize('aspect', [0.9, 1.0, 1.1])
def test_about_square_boxes_keep_the_recipes_own_input(aspect):
    # not a square long x long input: 4/3 of the compute, and worse on real square boxes
    assert sched.pick_input_size(aspect, (192, 256)) == (192, 256)
    assert sched.pick_input_size(aspect, (256, 192)) == (256, 192)
    assert sched.pick_input_size(aspect, (96, 128)) == (96, 128)


def test_host_memory_reads_meminfo_and_a_smaller_cgroup_limit(tmp_path):
    meminfo = tmp_path / 'meminfo'
    meminfo.write_text('MemTotal:  8000000 kB\nMemFree:  100 kB\nMemAvailable:  4000000 kB\n')
    cgroup = tmp_path / 'cgroup'
    assert host_memory(meminfo, cgroup) == (4000000 * 1024, f'MemAvailable in {meminfo}')
    cgroup.mkdir()
    (cgroup / 'memory.max').write_text('max\n')                      # v2, no limit
    assert host_memory(meminfo, cgroup)[0] == 4000000 * 1024
    (cgroup / 'memory.max').write_text(f'{3 * 1024 ** 3}\n')
    (cgroup / 'memory.current').write_text(f'{1024 ** 3}\n')
    assert host_memory(meminfo, cgroup) == (2 * 1024 ** 3, f'the cgroup limit in {cgroup}')


def test_host_memory_falls_back_to_sysconf_then_to_a_default(tmp_path, monkeypatch):
    missing = tmp_path / 'no_meminfo'
    monkeypatch.setattr(sched.os, 'sysconf', lambda name: {'SC_AVPHYS_PAGES': 1000,
                                                           'SC_PAGE_SIZE': 4096}[name])
    assert host_memory(missing, tmp_path) == (4096000, 'os.sysconf')

    def unsupported(name):
        raise ValueError(name)
    monkeypatch.setattr(sched.os, 'sysconf', unsupported)
    assert host_memory(missing, tmp_path) == (sched.DEFAULT_MEMORY,
                                              'assumed, free memory unreadable')
