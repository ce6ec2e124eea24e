"""Building QKeras (and float reference) models from a design's layer list."""
