"""The error every keypoint-definition check raises."""

__all__ = ['KeypointMetaError']


class KeypointMetaError(ValueError):
    """A keypoint definition is inconsistent or malformed."""
