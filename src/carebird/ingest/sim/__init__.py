"""The simulated network: deterministic bilingual traffic for the demo and the tests."""
