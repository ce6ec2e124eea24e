"""Vendor synthesis: plan, generate scripts, run the tools under discipline, collect reports.

``project``  reads the hls4ml project that the convert step wrote (names, part, clock, I/O)
``plan``     decides which tool runs which generated script for a level (pure, deterministic)
``scripts``  renders the Tcl/C++/shell text from templates/ (golden-tested as text)
``runner``   runs one command: own process group, log file, timeout, OOM detection, commands.json
``collect``  finds the reports the tools wrote, parses them, and builds synth.json
"""
