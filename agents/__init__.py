"""Faust agents: thin adapters between Kafka topics and the pricing engine."""
