from ..utils.snippet import InitializerSnippet
from .initializer import Initializer


class Wrapper(Initializer):
    """Any engine variable-initialisation snippet (name or object)."""

    def __init__(self, snippet, param_vals={}, egp_vals={}):
        self.snippet = snippet
        self.param_vals = dict(param_vals)
        self.egp_vals = dict(egp_vals)

    def get_snippet(self):
        return InitializerSnippet(self.snippet, self.param_vals, self.egp_vals)
