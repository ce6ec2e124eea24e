"""The flow's steps; importing this package registers them in order."""

from . import baseline, convert, deploy, emulate, estimate, package, report, synth, train

#: the step modules; each registered its StepSpec (hwflow.registry) when it was imported
STEP_MODULES = (train, convert, emulate, estimate, synth, package, deploy, baseline, report)
