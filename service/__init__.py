"""The service that wires the per-camera machinery together: configuration file, supervisor of camera
pipelines, recordings, detection, live view and health history, started and stopped as one."""
