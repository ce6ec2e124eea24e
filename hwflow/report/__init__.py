"""Report generation: results.json -> report.md, self-contained report.html, PNG plots."""
