"""Shared figure functions. ``eegnb.plots.core`` has the generic ones (saliency maps, curves
with standard errors); paper-specific figures live in ``eegnb.plots.<paper>`` modules."""

from eegnb.plots.core import plot_map, plot_maps, bar_with_sem  # noqa: F401
