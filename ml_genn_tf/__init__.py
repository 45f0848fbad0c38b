"""ml_genn_tf: Keras 3 ANN-to-SNN converters (see issue: converters)."""
