"""Evidence backends (stevedore namespace ``sod_nova.trust.backends``)."""

from stevedore import driver

NAMESPACE = 'sod_nova.trust.backends'


def load(name, architecture=None):
    """The backend plugin ``name``, constructed for ``architecture``.

    stevedore's DriverManager re-raises load failures, so a misspelt backend
    name stops the agent at start with the name in the error.
    """
    manager = driver.DriverManager(
        NAMESPACE, name, invoke_on_load=True,
        invoke_kwds={'architecture': architecture})
    return manager.driver
