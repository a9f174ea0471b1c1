"""pricestream: personalized prices and recommendations from a stream of shop events."""
