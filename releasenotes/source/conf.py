# Sphinx configuration of sod-nova's release notes (tox -e releasenotes),
# rendered by reno from releasenotes/notes in the git history.

from dulwich import diff_tree
from reno import scanner

# reno 4.1 stops with "Unrecognized changes" on a merge commit in which a
# note is new against one parent and changed against the other (the merges
# of issue 17 did that). Seen from the merge, the note was changed: keep
# only those entries, so that reno reads the note as the merge left it.
_aggregate_changes = scanner._ChangeAggregator.aggregate_changes
_ADD_AND_MODIFY = {diff_tree.CHANGE_ADD, diff_tree.CHANGE_MODIFY}


def _aggregate_merge_changes(self, walk_entry, changes):
    kept = []
    for change in changes:
        if (isinstance(change, list)
                and {c.type for c in change} == _ADD_AND_MODIFY):
            change = [c for c in change
                      if c.type == diff_tree.CHANGE_MODIFY]
        kept.append(change)
    return _aggregate_changes(self, walk_entry, kept)


scanner._ChangeAggregator.aggregate_changes = _aggregate_merge_changes

project = 'sod-nova Release Notes'
copyright = 'sod-nova developers'
author = 'sod-nova developers'

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

openstackdocs_repo_name = 'openstack/sod-nova'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = 'sod-nova'
openstackdocs_bug_tag = 'releasenotes'

templates_path = []
exclude_patterns = []
master_doc = 'index'
pygments_style = 'native'
html_theme = 'openstackdocs'
html_static_path = ['_static']
