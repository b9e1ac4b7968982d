# Sphinx configuration of sod-nova-api's API reference (tox -e api-ref),
# written with os-api-ref as Nova's and Placement's are.

project = 'Security on Demand API Reference'
copyright = 'sod-nova developers'
author = 'sod-nova developers'

extensions = [
    'os_api_ref',
    'openstackdocstheme',
]

openstackdocs_repo_name = 'openstack/sod-nova'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = 'sod-nova'
openstackdocs_bug_tag = 'api-ref'

html_theme = 'openstackdocs'
html_theme_options = {'sidebar_mode': 'toc'}
templates_path = []
exclude_patterns = []
master_doc = 'index'
pygments_style = 'native'
