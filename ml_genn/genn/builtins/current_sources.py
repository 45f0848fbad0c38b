"""Built-in current source models."""
from ..snippets import CurrentSourceModel

DC = CurrentSourceModel("DC", params=["amp"], injection_code="injectCurrent(amp);")

GaussianNoise = CurrentSourceModel(
    "GaussianNoise", params=["mean", "sd"],
    injection_code="injectCurrent(mean + (gennrand_normal() * sd));")

current_source_models = {m.class_name: m for m in (DC, GaussianNoise)}
