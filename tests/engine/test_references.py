"""``${...}`` references: the safe expression subset, errors, and expansion for options."""
import pytest
from mmengine.config import Config

from customkpt.engine.references import (ConfigReferenceError, codec_use_udp,
                                         expand_option_targets, resolve_references)


def _resolve(**top):
    return resolve_references(Config(top)).to_dict()


def test_whole_references_keep_the_value_type():
    out = _resolve(size=(96, 128), names=['a', 'b'], spec=dict(k=1),
                   a='${size}', b='${names}', c='${spec}', d='${size[1] // 4}')
    assert out['a'] == (96, 128) and isinstance(out['a'], tuple)
    assert out['b'] == ['a', 'b'] and out['c'] == {'k': 1} and out['d'] == 32


def test_expressions_names_numbers_operators_indexing():
    out = _resolve(max_epochs=210, lr=5e-4, arch='w18', widths=dict(w18=18, w32=32),
                   size=(192, 256),
                   ends='${[max_epochs - 40, max_epochs * 20 // 21]}',
                   eta='${lr * 0.01}', half='${max_epochs / 4}', neg='${-max_epochs + 1}',
                   width='${widths[arch]}', hm='${(size[0] // 4, size[1] // 4)}',
                   label='${"x" + arch}', flags='${[True, None]}')
    assert out['ends'] == [170, 200] and out['eta'] == 5e-4 * 0.01
    assert out['half'] == 52.5 and out['neg'] == -209 and out['width'] == 18
    assert out['hm'] == (48, 64) and out['label'] == 'xw18' and out['flags'] == [True, None]


def test_references_nest_through_dicts_lists_and_other_knobs():
    out = _resolve(train_size=(96, 128), heatmap_size='${(train_size[0] // 4, train_size[1] // 4)}',
                   codec=dict(type='MSRAHeatmap', input_size='${train_size}',
                              heatmap_size='${heatmap_size}'),
                   model=dict(head=dict(decoder='${codec}')),
                   pipeline=[dict(type='GenerateTarget', encoder='${codec}'),
                             ('${train_size[0]}', 1)])
    codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32))
    assert out['model']['head']['decoder'] == codec == out['pipeline'][0]['encoder']
    assert out['pipeline'][1] == (96, 1)


def test_reference_inside_a_longer_string_is_text():
    out = _resolve(data_root='data/x/', epochs=3, path='${data_root}ann/${epochs}.json')
    assert out['path'] == 'data/x/ann/3.json'


def test_resolved_values_are_copies():
    cfg = resolve_references(Config(dict(codec=dict(sigma=2), a='${codec}', b='${codec}')))
    cfg.a.sigma = 5
    assert cfg.b.sigma == 2 and cfg.codec.sigma == 2


def test_resolving_twice_changes_nothing():
    cfg = resolve_references(Config(dict(n=3, model=dict(out='${n}'))))
    again = resolve_references(cfg)
    assert again is cfg and cfg.to_dict() == dict(n=3, model=dict(out=3))


def test_use_udp_function_follows_the_codec_type():
    out = _resolve(codec=dict(type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64)),
                   plain=dict(type='customkpt.MSRAHeatmap'),
                   a='${use_udp(codec)}', b='${use_udp(plain)}')
    assert out['a'] is True and out['b'] is False
    assert codec_use_udp(dict(type='UDPHeatmap')) is True


@pytest.mark.parametrize('top, match', [
    (dict(model=dict(head=dict(out_channels='${num_joint}'))),
     r"model\.head\.out_channels = '\$\{num_joint\}': 'num_joint' is not a top-level key"),
    (dict(a='${b}', b='${a}'), r'circle: a -> b -> a'),
    (dict(x=dict(y=1), a=dict(k=['${x.y}'])), r"a\.k\[0\] = '\$\{x\.y\}': 'x\.y' is not allowed"),
    (dict(a="${open('f')}"), r"open\('f'\)\" is not allowed"),
    (dict(a='${(lambda: 1)()}'), r'not allowed'),
    (dict(n=1, a='${n < 2}'), r'not allowed'),
    (dict(s=(1, 2), a='${s[0:1]}'), r'not allowed'),
    (dict(arch='w32', a='${arch + 1}'), r"a = '\$\{arch \+ 1\}': TypeError"),
    (dict(w=dict(w32=32), arch='w64', a='${w[arch]}'), r"a = '\$\{w\[arch\]\}': KeyError"),
    (dict(a='${1 +}'), r'not an expression'),
    (dict(size=(1, 2), a='x${size}'), r'only strings and numbers'),
    (dict(a='x${y'), r'without its closing'),
])
def test_bad_references_name_the_key_and_the_reference(top, match):
    with pytest.raises(ConfigReferenceError, match=match):
        resolve_references(Config(top))


def test_options_that_descend_through_a_reference_get_a_copy_to_merge_into():
    cfg = Config(dict(sigma=2.0, codec=dict(type='MSRAHeatmap', sigma='${sigma}'),
                      model=dict(head=dict(decoder='${codec}')),
                      pipeline=[dict(type='GenerateTarget', encoder='${codec}')]))
    options = {'model.head.decoder.sigma': 3.0, 'pipeline.0.encoder.type': 'UDPHeatmap',
               'sigma': 2.5, 'nothing.here': 1}
    expand_option_targets(cfg, options)
    cfg.merge_from_dict(options)
    out = resolve_references(cfg).to_dict()
    assert out['model']['head']['decoder'] == dict(type='MSRAHeatmap', sigma=3.0)
    assert out['pipeline'][0]['encoder'] == dict(type='UDPHeatmap', sigma=2.5)
    assert out['codec'] == dict(type='MSRAHeatmap', sigma=2.5)
