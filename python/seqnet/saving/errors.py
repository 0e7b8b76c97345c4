"""The error every refused model file or configuration raises."""


class SavingError(ValueError):
    """A model file or configuration seqnet cannot or will not load: its message names the
    problem (a missing attribute, an unknown layer, a shape mismatch). A ValueError, so
    ``except ValueError`` catches it; unreadable files raise OSError instead."""
