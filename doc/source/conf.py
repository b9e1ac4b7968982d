# Sphinx configuration of sod-nova's documentation site (tox -e docs).
# The configuration, policy and command references are generated from the
# code (oslo.config, oslo.policy and cliff extensions), so they cannot drift.
# No extension reaches the network.

project = 'sod-nova'
copyright = 'sod-nova developers'
author = 'sod-nova developers'

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
    'cliff.sphinxext',
]

# openstackdocstheme: the repository it links to, no bug-report links.
openstackdocs_repo_name = 'openstack/sod-nova'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = 'sod-nova'
openstackdocs_bug_tag = 'doc'

# The samples, written at build time into _static (not kept in git) from the
# same generator files as ``tox -e genconfig`` and ``tox -e genpolicy``.
config_generator_config_file = '../../etc/sod_nova/sod_nova-config-generator.conf'
sample_config_basename = '_static/sod_nova'
policy_generator_config_file = '../../etc/sod_nova/sod_nova-policy-generator.conf'
sample_policy_basename = '_static/sod_nova'

# cliff: the sod-nova command by default; the openstack plugin's page names
# its own application.
autoprogram_cliff_application = 'sod-nova'

templates_path = []
exclude_patterns = []
master_doc = 'index'
pygments_style = 'native'
html_theme = 'openstackdocs'
html_static_path = ['_static']
