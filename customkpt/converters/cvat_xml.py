"""Reading CVAT's "CVAT for images 1.1" XML export.

Layout (the parts used)::

    <annotations>
      <meta><task>  (or <job>, <project>)
        <labels>
          <label><name>mouse</name><type>skeleton</type>
                 <svg>&lt;line data-node-from="1" data-node-to="2" ..&gt;
                      &lt;circle data-node-id="1" data-label-name="nose" ..&gt; ...</svg></label>
          <label><name>nose</name><type>points</type><parent>mouse</parent></label> ...
        </labels></task></meta>
      <image id="0" name="frames/img_0.png" width="640" height="480">
        <skeleton label="mouse" group_id="1">
          <points label="nose" points="10.5,20.0" occluded="0" outside="0"/> ...
        </skeleton>
        <box label="mouse" xtl=".." ytl=".." xbr=".." ybr=".." group_id="1"/>
        <points label="nose" points="10.5,20.0" occluded="0"/>
      </image>
    </annotations>

Each ``<skeleton>`` is one instance of its label: a child ``<points>`` with
``outside="1"`` (or a node without a child) is unlabelled (``v = 0``),
``occluded="1"`` gives ``v = 1``, others ``v = 2``. A skeleton's point names
are the sub-labels listed in the meta (labels whose ``<parent>`` is the
skeleton), else the child labels in order of first appearance; its links
are the ``<line>`` edges of the label's ``<svg>``, whose ends are the
``data-node-id`` of ``<circle>`` elements naming their sub-label in
``data-label-name``.

Files without any ``<skeleton>`` use the ``<points>`` shapes: each one point
(a shape holding several points is an error), its label the keypoint name;
shapes with the same ``group_id`` form one instance, an image whose shapes
have no ``group_id`` holds one instance (mixing both in one image is an
error). When a file has skeletons, loose ``<points>`` are ignored (counted).

A ``<box>`` with the ``group_id`` of an instance (or, in an image with one
ungrouped instance, its only ungrouped box) is the instance's box. Video
exports ("CVAT for video 1.1", with ``<track>`` elements) are refused.
"""
from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .common import ConversionError
from .tool_images import LabelDefinition, ToolImage, ToolInstance

__all__ = ['read_cvat_xml']

_TAG = re.compile(r'<(line|circle)\b([^>]*)>')
_ATTR = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')


def _parse(path: Path) -> ET.Element:
    if not path.is_file():
        raise ConversionError(f'CVAT XML file not found: {path}')
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise ConversionError(f'{path}: line {line}, column {col}: invalid XML') from None
    if root.tag != 'annotations':
        raise ConversionError(f'{path}: the root element is <{root.tag}>, not <annotations>; '
                              'is this a CVAT XML export?')
    if root.find('track') is not None:
        raise ConversionError(f'{path}: this is a "CVAT for video 1.1" export (it has '
                              '<track> elements); export the task as "CVAT for images 1.1"')
    return root


def _svg_links(svg: str, names: list[str]) -> list[list[int]]:
    """0-based links of a skeleton label's svg (edges between named nodes)."""
    node_name: dict[str, str] = {}
    edges = []
    for kind, attrs in _TAG.findall(html.unescape(svg or '')):
        values = dict(_ATTR.findall(attrs))
        if kind == 'circle' and 'data-node-id' in values:
            node_name[values['data-node-id']] = values.get('data-label-name', '')
        elif kind == 'line' and 'data-node-from' in values and 'data-node-to' in values:
            edges.append((values['data-node-from'], values['data-node-to']))
    index = {n: i for i, n in enumerate(names)}
    links = []
    for a, b in edges:
        ia, ib = index.get(node_name.get(a, '')), index.get(node_name.get(b, ''))
        if ia is not None and ib is not None and ia != ib and [ia, ib] not in links:
            links.append([ia, ib])
    return links


def _meta_labels(root: ET.Element) -> list[dict[str, str]]:
    out = []
    for lab in root.findall('./meta/*/labels/label'):
        out.append({k: (lab.findtext(k) or '').strip() for k in ('name', 'type', 'parent')}
                   | {'svg': lab.findtext('svg') or ''})
    return out


def _xy(value: str | None, where: str) -> tuple[float, float]:
    parts = (value or '').split(';')
    try:
        xy = [float(v) for v in parts[0].split(',')] if len(parts) == 1 else []
    except ValueError:
        xy = []
    if len(xy) != 2 or not all(math.isfinite(v) for v in xy):
        raise ConversionError(f'{where}: expected one point "x,y", got points={value!r}'
                              + (' (one point per keypoint)' if len(parts) > 1 else ''))
    return xy[0], xy[1]


def _box(el: ET.Element, where: str) -> list[float]:
    try:
        box = [float(el.get(k, '')) for k in ('xtl', 'ytl', 'xbr', 'ybr')]
    except ValueError:
        raise ConversionError(f'{where}: a box needs numbers xtl, ytl, xbr, ybr') from None
    return box


def _image_header(el: ET.Element, path: Path) -> tuple[str, int | None, int | None, str]:
    name = el.get('name')
    where = f'{path}: <image id="{el.get("id", "?")}" name="{name}">'
    if not name:
        raise ConversionError(f'{where}: no name')
    try:
        width = int(el.get('width')) if el.get('width') else None
        height = int(el.get('height')) if el.get('height') else None
    except ValueError:
        raise ConversionError(f'{where}: width/height are not integers') from None
    return name, width, height, where


def _skeleton_instances(el: ET.Element, where: str, boxes: dict[str, list[float]]
                        ) -> list[ToolInstance]:
    out = []
    found = el.findall('skeleton')
    if sum(not sk.get('group_id') for sk in found) > 1:
        boxes = {k: v for k, v in boxes.items() if k}  # a loose box belongs to no one
    for j, sk in enumerate(found):
        label = sk.get('label', '')
        swhere = f'{where}, skeleton {j} ({label!r})'
        points: dict[str, tuple[float, float, int]] = {}
        for p in sk.findall('points'):
            name = p.get('label', '')
            if p.get('outside') == '1':
                continue
            if name in points:
                raise ConversionError(f'{swhere}: point {name!r} appears twice')
            x, y = _xy(p.get('points'), f'{swhere}, point {name!r}')
            points[name] = (x, y, 1 if p.get('occluded') == '1' else 2)
        out.append(ToolInstance(label=label, points=points, box=boxes.get(sk.get('group_id', '')),
                                where=swhere))
    return out


def _points_instances(el: ET.Element, where: str, boxes: dict[str, list[float]],
                      label: str) -> list[ToolInstance]:
    shapes = el.findall('points')
    grouped = {p.get('group_id') for p in shapes if p.get('group_id')}
    groups: dict[str, dict[str, tuple[float, float, int]]] = {}
    for j, p in enumerate(shapes):
        name, gid = p.get('label', ''), p.get('group_id') or ''
        pwhere = f'{where}, points {j} ({name!r}' + (f', group {gid})' if gid else ')')
        if not gid and grouped:
            raise ConversionError(f'{pwhere}: no group_id, but this image has grouped points '
                                  f'{sorted(grouped)}: group all points of the image or none')
        points = groups.setdefault(gid, {})
        if name in points:
            raise ConversionError(f'{pwhere}: point {name!r} appears twice in one instance'
                                  + ('' if gid else ' (several instances need groups)'))
        x, y = _xy(p.get('points'), pwhere)
        points[name] = (x, y, 1 if p.get('occluded') == '1' else 2)
    return [ToolInstance(label=label, points=pts, box=boxes.get(gid),
                         where=f'{where}' + (f', group {gid}' if gid else ''))
            for gid, pts in groups.items()]


def _boxes(el: ET.Element, where: str) -> dict[str, list[float]]:
    """group_id -> box ('' for the only ungrouped box of an image)."""
    out: dict[str, list[float]] = {}
    loose = []
    for j, b in enumerate(el.findall('box')):
        box = _box(b, f'{where}, box {j}')
        if b.get('group_id'):
            out[b.get('group_id')] = box
        else:
            loose.append(box)
    if len(loose) == 1:
        out[''] = loose[0]
    return out


def _definitions(meta: list[dict[str, str]], images: list[ToolImage], skeletons: bool,
                 points_label: str) -> dict[str, LabelDefinition]:
    """Point names (and links) per label: from the meta, else as they appear."""
    seen: dict[str, list[str]] = {}
    for img in images:
        for inst in img.instances:
            names = seen.setdefault(inst.label, [])
            names += [n for n in inst.points if n not in names]
    if not skeletons:
        listed = [m['name'] for m in meta if m['name'] in seen.get(points_label, [])]
        rest = [n for n in seen.get(points_label, []) if n not in listed]
        return {points_label: LabelDefinition(names=listed + rest)}
    out = {}
    for m in meta:
        if m['type'] == 'skeleton':
            names = [s['name'] for s in meta if s['parent'] == m['name']] or seen.get(m['name'], [])
            out[m['name']] = LabelDefinition(names=names, skeleton=_svg_links(m['svg'], names))
    for label, names in seen.items():
        out.setdefault(label, LabelDefinition(names=names))
    return out


def read_cvat_xml(path: Path, points_label: str = 'object'
                  ) -> tuple[dict[str, LabelDefinition], list[ToolImage], list[str]]:
    """The labels, images and remarks of a CVAT-for-images XML file.

    Args:
        path: the XML file.
        points_label: the label given to instances made of loose points.
    """
    root = _parse(path)
    meta = _meta_labels(root)
    skeletons = root.find('./image/skeleton') is not None
    images, loose = [], 0
    for el in root.iter('image'):
        name, width, height, where = _image_header(el, path)
        boxes = _boxes(el, where)
        if skeletons:
            insts = _skeleton_instances(el, where, boxes)
            loose += len(el.findall('points'))
        else:
            insts = _points_instances(el, where, boxes, points_label)
        images.append(ToolImage(name, width, height, where, insts))
    notes = [f'{loose} <points> shape(s) outside skeletons ignored'] if loose else []
    return _definitions(meta, images, skeletons, points_label), images, notes
