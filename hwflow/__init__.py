"""hwflow: FPGA/edge hardware co-design of quantized neural networks.

Design YAML + board YAML -> QKeras training -> hls4ml conversion -> bit-accurate
emulation -> estimates / vendor synthesis -> deployment (real or emulated board)
-> report of accuracy, resources, latency, power and energy per inference.
"""

__version__ = "0.1.0"
