"""A transform's ``repr`` from the settings it names."""
from __future__ import annotations


class SettingsRepr:
    """Mixin: ``repr`` is ``Name(field=value, ...)`` over :attr:`repr_fields`
    (each value by its own ``repr``), so a transform lists its settings once."""

    repr_fields: tuple[str, ...] = ()

    def __repr__(self) -> str:
        settings = ', '.join(f'{field}={getattr(self, field)!r}' for field in self.repr_fields)
        return f'{type(self).__name__}({settings})'
