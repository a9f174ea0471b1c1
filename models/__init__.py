"""The GRU sequence model: training, evaluation and the serving API (plain PyTorch)."""
