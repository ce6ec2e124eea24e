"""The flow's steps; importing this package registers them in order."""

from . import train, convert, emulate, estimate, synth, package, deploy, report  # noqa: F401
