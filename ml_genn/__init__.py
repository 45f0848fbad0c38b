"""ml_genn: spiking neural networks from Python, compiled to native code."""
