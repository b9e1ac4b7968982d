"""The installed version of sod-nova (from pbr's metadata)."""

import pbr.version

version_info = pbr.version.VersionInfo('sod-nova')


def version_string():
    return version_info.version_string()
