"""A handwritten-digit classifier for the 8x8 digits data set that sklearn ships.

Modules: `data` (loading and the seeded split), `model` (training, saving and
numpy-only prediction), and the command-line tools `train`, `evaluate` and
`serve`.
"""
