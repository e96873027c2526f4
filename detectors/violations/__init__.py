"""The shared layer that turns detectors' observations into violations, and what follows from one."""
