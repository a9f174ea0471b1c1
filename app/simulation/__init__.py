"""Offline pricing simulator: simulated buyers replayed from a recorded log, policies compared.

The modules build on each other: ``population`` turns a log into replayed offers and
hidden buyer parameters, ``policies`` prices those offers, ``runner`` plays every policy
on the same population, ``metrics`` summarises each run and ``report`` writes the table,
JSON and plot. Nothing here imports faust, aiokafka or rocksdict.
"""
