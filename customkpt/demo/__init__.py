"""Built-in demo data: the synthetic self5 dataset and video."""
from .synthetic import SELF5_META, make_self5_dataset, render_image

__all__ = ['SELF5_META', 'make_self5_dataset', 'render_image']
