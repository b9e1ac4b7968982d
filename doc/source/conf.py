# Sphinx configuration of sod-nova's documentation (issue 25 builds the site).
# No extension that reaches the network; nothing here needs sod-nova installed.

project = 'sod-nova'
copyright = 'sod-nova developers'
author = 'sod-nova developers'

extensions = []
templates_path = []
exclude_patterns = []
master_doc = 'index'
html_theme = 'alabaster'
