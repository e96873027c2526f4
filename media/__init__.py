"""Media formats, owned here and shared by their users (recorder, reconciliation, playback, live view, snapshots,
detectors), none of which imports another: NAL units, MP4 boxes and fragments, segment files, JPEG, multipart."""
