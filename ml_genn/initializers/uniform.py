from ..utils.snippet import ConstantValueDescriptor, InitializerSnippet
from .initializer import Initializer


class Uniform(Initializer):
    """Uniformly distributed values between ``min`` and ``max``."""
    min = ConstantValueDescriptor()
    max = ConstantValueDescriptor()

    def __init__(self, min: float = 0.0, max: float = 1.0):
        self.min = min
        self.max = max
        if min > max:
            raise ValueError(f"Uniform: min ({min!r}) must not be greater than max ({max!r})")

    def get_snippet(self):
        return InitializerSnippet("Uniform", {"min": self.min, "max": self.max})

    def __repr__(self):
        return f"(Uniform) Min: {self.min}, Max: {self.max}"
