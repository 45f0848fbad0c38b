from ..utils.snippet import ConstantValueDescriptor, InitializerSnippet
from .initializer import Initializer


class Normal(Initializer):
    """Normally distributed values, ``N(mean, sd^2)``."""
    mean = ConstantValueDescriptor()
    sd = ConstantValueDescriptor()

    def __init__(self, mean: float = 0.0, sd: float = 1.0):
        self.mean = mean
        self.sd = sd
        if sd < 0:
            raise ValueError(f"Normal: sd (the standard deviation) must be >= 0, got {sd!r}")

    def get_snippet(self):
        return InitializerSnippet("Normal", {"mean": self.mean, "sd": self.sd})

    def __repr__(self):
        return f"(Normal) Mean: {self.mean}, Standard Deviation: {self.sd}"
