"""The project's programs: the demo, the world it simulates, the benchmark, and generators."""
