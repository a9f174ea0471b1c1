"""Offline pricing simulator: simulated buyers replayed from a recorded log, policies compared.

``population`` turns a log into replayed offers and hidden buyer parameters, and
``signals`` computes the model's output at each replayed event. ``policies`` prices the
offers, ``runner`` plays every policy on the same population, ``metrics`` summarises each
run and ``report`` writes the table, JSON and plot. Nothing here imports faust, aiokafka
or rocksdict.
"""
