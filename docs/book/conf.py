"""Sphinx configuration of the workbook's HTML book (``make book``).

The sources are staged by ``python -m eegnb.nbtools book`` (README as the landing page, the
executed notebooks with their figures); myst-nb renders their stored outputs and executes
nothing, so the build needs no kernel and no network.
"""

project = "eegnb"
author = "eegnb contributors"
copyright = "eegnb contributors"

extensions = ["myst_nb"]
nb_execution_mode = "off"  # render the executed copies as they are
nb_output_stderr = "remove"  # warnings and progress noise stay out of the book
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header", "myst.xref_missing", "myst.domains", "mystnb.unknown_mime_type"]

html_theme = "pydata_sphinx_theme"
html_title = "eegnb: explaining EEG deep-learning models"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []
