"""Shared figure functions. ``eegnb.plots.core`` has the generic ones (saliency maps, curves
with standard errors); paper-specific figures live in ``eegnb.plots.<paper>`` modules."""

from eegnb.plots.core import bar_with_sem, plot_map, plot_maps  # noqa: F401
