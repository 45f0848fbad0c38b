"""ml_genn_tf: convert trained Keras 3 models into ml_genn spiking networks.

See :mod:`ml_genn_tf.converters` (Simple, DataNorm, FewSpike, spike_normalise).
"""
