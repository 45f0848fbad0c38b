"""Code strings: tokenizer, parser, names and rendering to C."""
from .environment import Environment, Function, Local, Value
from .renderer import Renderer, type_to_c

__all__ = ["Environment", "Function", "Local", "Value", "Renderer", "type_to_c"]
