"""Detectors: analytics on decoded frames (key frames, or sampled ones where a detector asks), fed by camera hubs;
each detector a plug-in of `plugins/`, their violations through one set of rules."""
