"""The parts of a SLEAP label file that are json: skeletons, videos, tracks.

A ``.slp`` file is HDF5. Its ``metadata`` group has the attributes
``format_id`` (a number such as 1.2) and ``json``, a json object whose
``nodes`` list holds every node (``{"name", "weight"}``) and whose
``skeletons`` list holds each skeleton as a networkx node-link graph,
serialised by jsonpickle::

    {"graph": {"name": "Skeleton-0", ...},
     "nodes": [{"id": 0}, {"id": 1}, ...],        # indices into metadata "nodes"
     "links": [{"source": 0, "target": 1, "key": 0,
                "type": {"py/reduce": [{"py/type": "sleap.skeleton.EdgeType"},
                                       {"py/tuple": [1]}]}},
               {"source": 1, "target": 2, "type": {"py/id": 1}}, ...]}

The order of a skeleton's ``nodes`` is the order of the points of its
instances. An edge type is 1 (a body link) or 2 (a symmetry, i.e. a mirror
pair). jsonpickle writes an edge type in full once (``py/reduce``) and then
refers to it as ``{"py/id": n}``, ``n`` counting the distinct objects of that
skeleton's json in order of their first appearance (in practice 1 = the type
met first, 2 = the other); an id beyond those seen is read as the type number
itself, as other SLEAP readers do.

The ``videos_json`` dataset holds one json object per video, ``{"backend":
{...}}``, where the backend has ``filename`` (a video file, or ``"."`` /
the label file itself for frames embedded in a ``.pkg.slp`` package) and, for
HDF5 backends, ``dataset`` (e.g. ``"video0/video"``); image-sequence backends
have ``filenames``. ``tracks_json`` holds ``[spawned_on, name]`` per track.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import ConversionError
from .hdf5 import decode_text, parse_json_text

__all__ = ['SleapSkeleton', 'read_metadata', 'read_skeletons', 'read_videos', 'read_tracks',
           'BODY_EDGE', 'SYMMETRY_EDGE']

#: SLEAP's edge types.
BODY_EDGE, SYMMETRY_EDGE = 1, 2


@dataclass
class SleapSkeleton:
    """One SLEAP skeleton.

    Attributes:
        name: the skeleton's name.
        node_names: the K node names, in the order of instance points.
        links: 0-based body links.
        symmetries: 0-based mirror pairs, each once.
    """

    name: str
    node_names: list[str]
    links: list[list[int]] = field(default_factory=list)
    symmetries: list[list[int]] = field(default_factory=list)


def read_metadata(fh: Any, path: Path) -> tuple[dict, float]:
    """The ``metadata`` json and the ``format_id`` (0.0 when absent)."""
    group = fh.get('metadata')
    if group is None or 'json' not in group.attrs:
        raise ConversionError(f'{path}: no metadata group with a "json" attribute; is this a '
                              'SLEAP .slp file?')
    meta = parse_json_text(group.attrs['json'], f'{path}: metadata json')
    if not isinstance(meta, dict):
        raise ConversionError(f'{path}: metadata json is not an object')
    try:
        format_id = float(group.attrs.get('format_id', 0.0))
    except (TypeError, ValueError):
        raise ConversionError(f'{path}: metadata format_id is not a number: '
                              f'{group.attrs.get("format_id")!r}') from None
    return meta, format_id


def _edge_type(value: Any, seen: list[int], where: str) -> int:
    """The edge type of one link's ``type`` (see the module notes)."""
    if isinstance(value, dict) and 'py/reduce' in value:
        try:
            kind = int(value['py/reduce'][1]['py/tuple'][0])
        except (KeyError, IndexError, TypeError, ValueError):
            raise ConversionError(f'{where}: unreadable edge type {value!r}') from None
        seen.append(kind)
        return kind
    if isinstance(value, dict) and 'py/id' in value:
        ref = value['py/id']
        if isinstance(ref, int) and 1 <= ref <= len(seen):
            return seen[ref - 1]
        if ref in (BODY_EDGE, SYMMETRY_EDGE):
            return int(ref)
    if isinstance(value, int):
        return value
    raise ConversionError(f'{where}: unreadable edge type {value!r}')


def _skeleton(skel: Any, all_nodes: list[str], where: str) -> SleapSkeleton:
    if not isinstance(skel, dict) or not isinstance(skel.get('nodes'), list):
        raise ConversionError(f'{where}: expected a node-link graph with a "nodes" list')
    graph = skel.get('graph') if isinstance(skel.get('graph'), dict) else {}
    name = str(graph.get('name') or skel.get('name') or 'skeleton')
    ids = []
    for j, node in enumerate(skel['nodes']):
        nid = node.get('id') if isinstance(node, dict) else None
        if not isinstance(nid, int) or not 0 <= nid < len(all_nodes):
            raise ConversionError(f'{where}: node {j} has id {nid!r}, not an index into the '
                                  f'{len(all_nodes)} metadata nodes')
        ids.append(nid)
    position = {nid: j for j, nid in enumerate(ids)}
    out = SleapSkeleton(name=name, node_names=[all_nodes[i] for i in ids])
    seen: list[int] = []
    for j, link in enumerate(skel.get('links') or []):
        lwhere = f'{where}, link {j}'
        if not isinstance(link, dict):
            raise ConversionError(f'{lwhere}: not an object')
        kind = _edge_type(link.get('type'), seen, lwhere)
        ends = [position.get(link.get(k)) if isinstance(link.get(k), int) else None
                for k in ('source', 'target')]
        if None in ends:
            raise ConversionError(f'{lwhere}: source/target {link.get("source")!r} -> '
                                  f'{link.get("target")!r} are not nodes of this skeleton')
        if kind not in (BODY_EDGE, SYMMETRY_EDGE):
            raise ConversionError(f'{lwhere}: unknown edge type {kind} (1 = body link, '
                                  '2 = symmetry)')
        target = out.symmetries if kind == SYMMETRY_EDGE else out.links
        if ends not in target and ends[::-1] not in target:
            target.append(ends)
    return out


def read_skeletons(meta: dict, path: Path) -> list[SleapSkeleton]:
    """Every skeleton of the metadata json."""
    nodes = meta.get('nodes')
    skeletons = meta.get('skeletons')
    if not isinstance(nodes, list) or not isinstance(skeletons, list) or not skeletons:
        raise ConversionError(f'{path}: metadata json needs "nodes" and a non-empty '
                              '"skeletons" list')
    names = [str(n.get('name')) if isinstance(n, dict) else str(n) for n in nodes]
    return [_skeleton(s, names, f'{path}: metadata skeleton {i}') for i, s in enumerate(skeletons)]


def read_videos(fh: Any, meta: dict, path: Path) -> list[dict]:
    """The backend dict of every video (``videos_json``, else the metadata's
    ``videos``)."""
    if 'videos_json' in fh:
        videos = [parse_json_text(v, f'{path}: videos_json row {i}')
                  for i, v in enumerate(fh['videos_json'][()])]
    else:
        videos = meta.get('videos') or []
    out = []
    for i, video in enumerate(videos):
        backend = video.get('backend', video) if isinstance(video, dict) else None
        if not isinstance(backend, dict):
            raise ConversionError(f'{path}: video {i}: expected an object with a "backend"')
        out.append(backend)
    return out


def read_tracks(fh: Any, path: Path) -> list[str]:
    """Track names by index (``tracks_json``; none when absent)."""
    if 'tracks_json' not in fh:
        return []
    names = []
    for i, row in enumerate(fh['tracks_json'][()]):
        track = parse_json_text(row, f'{path}: tracks_json row {i}')
        if isinstance(track, list) and len(track) >= 2:
            names.append(str(track[1]))
        elif isinstance(track, dict) and 'name' in track:
            names.append(str(track['name']))
        else:
            names.append(decode_text(row))
    return names
