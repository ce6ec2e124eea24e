"""The flow's steps; importing this package registers them in order."""

from . import baseline, convert, deploy, emulate, estimate, package, report, synth, train  # noqa: F401
