"""The flow's steps; importing this package registers them in order."""

from . import convert, deploy, emulate, estimate, package, report, synth, train  # noqa: F401
