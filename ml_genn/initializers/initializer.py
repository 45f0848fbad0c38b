"""Base of variable initializers: values sampled by the engine's RNG."""
from abc import ABC, abstractmethod


class Initializer(ABC):
    @abstractmethod
    def get_snippet(self):
        """-> utils.snippet.InitializerSnippet(snippet, param_vals, egp_vals)"""
